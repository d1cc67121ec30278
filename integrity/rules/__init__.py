"""The rule registry: one module per rule, each registering itself with :func:`rule`.

A rule is a plain function ``(ctx, settings) -> Iterable[Finding]``; its docstring is the
explanation users read (``integrity rules`` prints it, a test checks every rule has one). Its
thresholds and citation come from its section of the policy profile, validated by the settings
model it declares. Adding a rule means adding its module and one import line below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from integrity.award import Assessment, Award, AwardContext
from integrity.findings import Finding
from integrity.load import Dataset
from integrity.policy import Profile, RuleSettings
from integrity.screen import Screening

S = TypeVar("S", bound=RuleSettings)


@dataclass(frozen=True)
class ScanContext:
    """What a rule reads: the typed tables and the profile it runs under."""

    dataset: Dataset
    profile: Profile
    # what a rule wants the run record to say besides its findings (data gaps, e.g. projects
    # without a nominator count), by rule code
    notes: dict[str, list[str]] = field(default_factory=dict)
    # results two rules share (computed by the first that needs them), by key
    shared: dict[Any, Any] = field(default_factory=dict)

    def note(self, rule: str, message: str) -> None:
        self.notes.setdefault(rule, []).append(message)

    @cached_property
    def screening(self) -> Screening:
        """Identities, kin expansion and role holders, computed once and shared by rules."""
        return Screening(self.dataset)


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


# one module per rule; importing registers it (after REGISTRY exists, hence at the end)
from integrity.rules import (  # noqa: E402
    acceptance,  # noqa: F401
    avoidance,  # noqa: F401
    collusive_quotes,  # noqa: F401
    nomination,  # noqa: F401
    off_catalogue,  # noqa: F401
    over_cap,  # noqa: F401
    related_supplier,  # noqa: F401
    split_bid,  # noqa: F401
    undeclared_relation,  # noqa: F401
)
