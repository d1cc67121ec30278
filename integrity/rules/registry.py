"""The rule registry: each rule registers itself with :func:`rule` (and its single-award
assessment with :func:`assessor`); its module imports nothing but this (no rule imports
another)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from integrity.findings import Finding
from integrity.policy import Profile, RuleSettings
from integrity.screening.award import Assessment, Award, AwardContext
from integrity.screening.context import ScanContext

S = TypeVar("S", bound=RuleSettings)
__all__ = ["PROVISION_RULES", "REGISTRY", "Rule", "ScanContext", "assessor", "rule"]


@dataclass
class Rule(Generic[S]):
    code: str
    title: str  # short Chinese name for summaries
    settings_model: type[S]
    needs: tuple[str, ...]  # tables without which the rule cannot run
    run: Callable[[ScanContext, S], Iterable[Finding]]
    screening: bool = True  # reads identities and kinship (ScanContext.screening)
    # judges one award before it is made (the pre-award check), ending in the same judge
    # function as ``run``; None for a rule that reads a whole roster or what follows award
    assess: Callable[[Award, AwardContext, S, Profile], Assessment] | None = None
    # the profile provisions it checks, by key, with the columns each reads beyond ``needs``
    # ("projects.council_date"; "a|b": either will do)
    checks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # a programme-level rule: its settings are the profile's provisions it checks
    # (ProgrammeSettings), its section optional
    programme: bool = False
    # reads the officials' kinship or the identity links between people; False: of the
    # screening only the tables keyed by identity (Screening.keyed), which the rule may build
    # for itself, so that a split scan runs it before the shared stages are built
    kin: bool = True

    @property
    def doc(self) -> str:
        return (self.run.__doc__ or "").strip()


REGISTRY: dict[str, Rule[Any]] = {}
# provision key -> the rule that checks it (filled as rules register)
PROVISION_RULES: dict[str, str] = {}


def rule(
    code: str,
    *,
    title: str,
    settings: type[S],
    needs: tuple[str, ...],
    screening: bool = True,
    checks: dict[str, tuple[str, ...]] | None = None,
    programme: bool = False,
    kin: bool = True,
) -> Callable[
    [Callable[[ScanContext, S], Iterable[Finding]]], Callable[[ScanContext, S], Iterable[Finding]]
]:
    def register(
        fn: Callable[[ScanContext, S], Iterable[Finding]],
    ) -> Callable[[ScanContext, S], Iterable[Finding]]:
        if code in REGISTRY:
            raise ValueError(f"rule {code} registered twice")
        REGISTRY[code] = Rule(
            code,
            title,
            settings,
            needs,
            fn,
            screening,
            checks=dict(checks or {}),
            programme=programme,
            kin=kin,
        )
        for key in checks or {}:
            if PROVISION_RULES.setdefault(key, code) != code:
                raise ValueError(f"provision {key} checked by {PROVISION_RULES[key]} and {code}")
        return fn

    return register


def assessor(
    code: str,
) -> Callable[
    [Callable[[Award, AwardContext, S, Profile], Assessment]],
    Callable[[Award, AwardContext, S, Profile], Assessment],
]:
    """Register a rule's single-award assessment (after the rule itself)."""

    def register(
        fn: Callable[[Award, AwardContext, S, Profile], Assessment],
    ) -> Callable[[Award, AwardContext, S, Profile], Assessment]:
        REGISTRY[code].assess = fn
        return fn

    return register
