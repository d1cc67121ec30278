"""What a batch rule reads: the typed tables, the profile, and the screening (identities,
kinship, role holders) computed once and shared by the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from integrity.load.dataset import Dataset
from integrity.policy import Profile
from integrity.screening.kin import Screening
from integrity.screening.registry import Registry
from integrity.screening.tables import KinEngine


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
    # the engine of the kin expansion (None: the default, in this process)
    kin_engine: KinEngine | None = None
    # the suppliers' people held elsewhere (None: all of them in the dataset)
    registry: Registry | None = None

    def note(self, rule: str, message: str) -> None:
        self.notes.setdefault(rule, []).append(message)

    @cached_property
    def screening(self) -> Screening:
        """Identities, kin expansion and role holders, computed once and shared by rules."""
        return Screening(self.dataset, kin_engine=self.kin_engine, registry=self.registry)
