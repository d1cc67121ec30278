"""Policy profiles: one TOML file per programme, loaded into typed settings.

A profile carries every threshold and every clause citation of its programme, so a new
district's rules are a new file and no code. Each ``[rules.<code>]`` section is validated by
that rule's own settings model (see :mod:`integrity.rules`); a ``[rules_not_applicable]`` entry
says why a rule does not apply to the programme; ``[[provisions]]`` keep the remaining clauses
(thresholds no rule reads yet) with their citations. Unknown keys anywhere are errors.
"""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from integrity.errors import PolicyError

DEFAULT_PROFILE = "longgang-2023"
Category = Literal["工程类", "服务类", "货物类"]
Severity = Literal["high", "medium", "low"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clause(StrictModel):
    """A citation: the reference a referral quotes, and the document's own words."""

    ref: str = Field(min_length=1)
    text: str = Field(min_length=1)
    # quoted from a national law or regulation rather than from the programme's own document
    # (shared/seeds): 政府采购法、政府采购法实施条例、招标投标法实施条例
    national: bool = False


class RuleSettings(StrictModel):
    """What every rule section has; a rule's module extends it with its thresholds."""

    clause: Clause
    also: list[Clause] = Field(default_factory=list)  # further provisions cited beside it

    @property
    def citation(self) -> str:
        """The reference a finding cites: the rule's clause, then those cited beside it."""
        return "；".join([self.clause.ref, *(c.ref for c in self.also)])

    @property
    def clauses(self) -> list[Clause]:
        return [self.clause, *self.also]


class Provision(StrictModel):
    """A clause of the programme with its value: a rule checks it (``rule``, by default the
    rule that declares its key), or ``unchecked`` says why no ledger can show it."""

    key: str
    topic: str
    clause: Clause
    value: float | int | str | bool | None = None
    unit: str | None = None
    rule: str | None = None
    unchecked: str | None = Field(default=None, min_length=2)


class ProgrammeSettings(RuleSettings):
    """A programme-level rule's settings: the profile's provisions it checks (by key), their
    clauses as the rule's citation, and the options of its ``[rules.<code>]`` section."""

    provisions: dict[str, Provision] = Field(default_factory=dict)

    def provision(self, key: str) -> Provision | None:
        return self.provisions.get(key)

    def value(self, key: str) -> float | None:
        """A provision's number (None when the profile does not set it)."""
        p = self.provisions.get(key)
        if p is None or isinstance(p.value, (str, bool)) or p.value is None:
            return None
        return float(p.value)


class Document(StrictModel):
    title: str
    number: str | None = None  # 文号, e.g. 深龙民规〔2023〕5号
    issuer: str | None = None
    kind: Literal["normative", "news_report"] = "normative"
    seed: str  # file in shared/seeds the clauses are quoted from
    in_force: date | None = None
    expires: date | None = None
    reported: date | None = None


class Profile(StrictModel):
    name: str
    label: str
    region: str
    document: Document
    notes: str = ""
    rules: dict[str, RuleSettings] = Field(default_factory=dict)
    rules_not_applicable: dict[str, str] = Field(default_factory=dict)
    provisions: list[Provision] = Field(default_factory=list)

    def settings(self, rule: str) -> RuleSettings | None:
        return self.rules.get(rule)

    def provisions_of(self, rule: str) -> list[Provision]:
        """The provisions a rule checks under this profile."""
        return [p for p in self.provisions if p.rule == rule]


def profile_dir() -> Path:
    return Path(str(resources.files("integrity") / "policies"))


def available_profiles() -> list[str]:
    return sorted(p.stem for p in profile_dir().glob("*.toml"))


def _parse(data: dict[str, Any], source: str) -> Profile:
    # the registry imports the rule modules, which import this module: resolve it at call time
    from integrity.rules import REGISTRY  # noqa: PLC0415 - import cycle, see above

    raw_rules = data.pop("rules", {})
    if not isinstance(raw_rules, dict):
        raise PolicyError(f"{source}: [rules] 必须是表 / must be a table")
    rules: dict[str, RuleSettings] = {}
    problems: list[str] = []
    provisions = _provisions(data.get("provisions", []), problems)
    data["provisions"] = provisions
    checked_by: dict[str, dict[str, Provision]] = {}
    for p in provisions:
        if p.rule is not None:
            checked_by.setdefault(p.rule, {})[p.key] = p
    programme = [c for c, r in REGISTRY.items() if r.programme and c in checked_by]
    for code in dict.fromkeys([*raw_rules, *programme]):
        section = raw_rules.get(code, {})
        rule = REGISTRY.get(code)
        if rule is None:
            problems.append(
                f"[rules.{code}]: 未知规则 / unknown rule (known: {', '.join(sorted(REGISTRY))})"
            )
            continue
        if rule.programme:
            mine = checked_by.get(code, {})
            if not mine:
                problems.append(
                    f"[rules.{code}]: 没有由该规则检查的条款 / no [[provisions]] for this rule"
                )
                continue
            clauses = list(dict.fromkeys(p.clause for p in mine.values()))
            section = {"clause": clauses[0], "also": clauses[1:], **section, "provisions": mine}
        try:
            rules[code] = rule.settings_model.model_validate(section)
        except (ValidationError, TypeError) as exc:
            problems.append(f"[rules.{code}]: {exc}")
    for code in data.get("rules_not_applicable", {}):
        if code in raw_rules:
            problems.append(
                f"[rules_not_applicable] {code}: 同时又有 [rules.{code}] / also has a section"
            )
    try:
        profile = Profile.model_validate({**data, "rules": {}})
    except ValidationError as exc:
        problems.append(str(exc))
    if problems:
        raise PolicyError(
            f"政策配置文件有误 / invalid policy profile {source}:\n" + "\n".join(problems)
        )
    return profile.model_copy(update={"rules": rules})


def _provisions(raw: Any, problems: list[str]) -> list[Provision]:
    """The ``[[provisions]]``, each with the rule that checks it: the one named, else the
    rule that declares its key; one with neither must say why it is not checked."""
    from integrity.rules import PROVISION_RULES, REGISTRY  # noqa: PLC0415 - see _parse

    if not isinstance(raw, list):
        problems.append("[[provisions]] 必须是表的数组 / must be an array of tables")
        return []
    out: list[Provision] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, 1):
        try:
            p = Provision.model_validate(item)
        except ValidationError as exc:
            problems.append(f"[[provisions]] #{i}: {exc}")
            continue
        where = f"[[provisions]] {p.key}"
        if p.key in seen:
            problems.append(f"{where}: 重复的条款 / duplicate key")
        seen.add(p.key)
        declared = PROVISION_RULES.get(p.key)
        if p.rule is not None and p.rule not in REGISTRY:
            problems.append(f"{where}: 未知规则 / unknown rule {p.rule!r}")
        elif p.rule is not None and declared is not None and p.rule != declared:
            problems.append(
                f"{where}: 由规则 {declared} 检查 / checked by {declared}, not {p.rule}"
            )
        elif p.unchecked is not None and (p.rule or declared):
            problems.append(
                f"{where}: 有规则检查，不应写 unchecked / a rule checks it, drop `unchecked`"
            )
        elif p.rule is None and declared is None and p.unchecked is None:
            problems.append(
                f"{where}: 没有规则检查该条款，须以 unchecked 说明原因 / no rule checks it: "
                'say why with `unchecked = "..."`'
            )
        out.append(p.model_copy(update={"rule": p.rule or declared}))
    return out


def parse_profile(text: str, source: str) -> Profile:
    """A profile from a TOML text; ``source`` names it in errors (a file, an upload)."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise PolicyError(f"无法读取政策配置 / cannot read policy profile {source}: {exc}") from exc
    try:
        return _parse(data, source)
    except PolicyError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
        # a section of the wrong kind (rules_not_applicable = 5, a clause as a number …)
        raise PolicyError(
            f"政策配置文件有误 / invalid policy profile {source}: {type(exc).__name__}: {exc}"
        ) from exc


def load_profile(name_or_path: str | Path) -> Profile:
    """A profile by name (``longgang-2023``) or by the path of a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = profile_dir() / f"{name_or_path}.toml"
        if not path.exists():
            raise PolicyError(
                f"未知的政策配置 “{name_or_path}” / unknown policy profile '{name_or_path}'; "
                f"可用 / available: {', '.join(available_profiles())}"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"无法读取政策配置 / cannot read policy profile {path}: {exc}") from exc
    profile = parse_profile(text, str(path))
    if path.parent == profile_dir() and profile.name != path.stem:
        raise PolicyError(
            f"{path}: name = {profile.name!r} 与文件名不符 / does not match the file name"
        )
    return profile
