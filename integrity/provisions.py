"""Every provision of the profile with its status in one run: checked (by which rule), not
checked (and why: the missing table or columns, or why no ledger can show it), or not
applicable to the programme. run.json, the scan's summary and the service show this list, so
an annual scan never passes a provision silently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal, Protocol

from integrity.load.dataset import Dataset
from integrity.policy import Profile
from integrity.programme import column_label, missing_columns, missing_text
from integrity.rules import REGISTRY


class RuleRun(Protocol):
    """What a provision's status reads of its rule's run (integrity.scan.RuleRun)."""

    @property
    def rule(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str: ...


Status = Literal["checked", "not_checked", "not_applicable"]
STATUS_ZH = {"checked": "已检查", "not_checked": "未检查", "not_applicable": "不适用"}


@dataclass(frozen=True)
class ProvisionStatus:
    key: str
    topic: str
    clause: str  # the reference a referral cites
    status: Status
    rule: str | None
    reason: str = ""
    value: float | int | str | bool | None = None
    unit: str | None = None
    missing: tuple[str, ...] = ()  # the columns or tables that would let it be checked

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"missing": list(self.missing)}


def provision_statuses(
    profile: Profile, dataset: Dataset, runs: Sequence[RuleRun]
) -> list[ProvisionStatus]:
    """Each ``[[provisions]]`` entry, each rule section no provision names (the rule's own
    clause), and each rule the profile declares not applicable, in that order."""
    by_rule = {r.rule: r for r in runs}
    out: list[ProvisionStatus] = []
    named: set[str] = set()
    for p in profile.provisions:
        base = ProvisionStatus(
            key=p.key, topic=p.topic, clause=p.clause.ref, status="checked", rule=p.rule
        )
        base = replace(base, value=p.value, unit=p.unit)
        if p.rule is None:
            out.append(replace(base, status="not_checked", reason=p.unchecked or ""))
            continue
        named.add(p.rule)
        out.append(_status(base, p.rule, p.key, by_rule, dataset))
    for code, settings in profile.rules.items():
        if code in named or REGISTRY[code].programme:
            continue
        base = ProvisionStatus(
            key=code,
            topic=REGISTRY[code].title,
            clause=settings.clause.ref,
            status="checked",
            rule=code,
        )
        out.append(_status(base, code, None, by_rule, dataset))
    for code, why in profile.rules_not_applicable.items():
        title = REGISTRY[code].title if code in REGISTRY else code
        out.append(
            ProvisionStatus(
                key=code, topic=title, clause="", status="not_applicable", rule=code, reason=why
            )
        )
    return out


def _status(
    base: ProvisionStatus,
    code: str,
    key: str | None,
    by_rule: dict[str, RuleRun],
    dataset: Dataset,
) -> ProvisionStatus:
    """``base`` (status "checked") as this run left it: not checked when its rule did not run
    or the columns the provision needs are absent."""
    run = by_rule.get(code)
    if run is None:
        why = f"本次筛查未选择规则 {code} / rule {code} was not selected for this run"
        return replace(base, status="not_checked", reason=why)
    rule = REGISTRY[code]
    if run.status != "run":
        missing = tuple(column_label(t) for t in rule.needs if not dataset.has(t))
        return replace(base, status="not_checked", reason=run.reason, missing=missing)
    lacking = missing_columns(dataset, rule.checks.get(key, ()) if key else ())
    if lacking:
        return replace(
            base, status="not_checked", reason=missing_text(lacking), missing=tuple(lacking)
        )
    return base


def not_checked(statuses: Sequence[ProvisionStatus]) -> list[ProvisionStatus]:
    return [s for s in statuses if s.status == "not_checked"]
