"""The rule registry: each rule registers itself with :func:`rule` (and its single-award
assessment with :func:`assessor`); its module imports nothing but this (no rule imports
another)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from integrity.award import Assessment, Award, AwardContext
from integrity.context import ScanContext
from integrity.findings import Finding
from integrity.policy import Profile, RuleSettings

S = TypeVar("S", bound=RuleSettings)
__all__ = ["REGISTRY", "Rule", "ScanContext", "assessor", "rule"]


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

    @property
    def doc(self) -> str:
        return (self.run.__doc__ or "").strip()


REGISTRY: dict[str, Rule[Any]] = {}


def rule(
    code: str,
    *,
    title: str,
    settings: type[S],
    needs: tuple[str, ...],
    screening: bool = True,
) -> Callable[
    [Callable[[ScanContext, S], Iterable[Finding]]], Callable[[ScanContext, S], Iterable[Finding]]
]:
    def register(
        fn: Callable[[ScanContext, S], Iterable[Finding]],
    ) -> Callable[[ScanContext, S], Iterable[Finding]]:
        if code in REGISTRY:
            raise ValueError(f"rule {code} registered twice")
        REGISTRY[code] = Rule(code, title, settings, needs, fn, screening)
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
