"""One award, judged before it is made: the pre-award check's door to the rules.

A rule that can judge a single award exposes ``assess(award, ctx, settings, profile)`` beside
its batch ``scan``; both end in the rule's ``judge`` function, which decides severity, clauses,
status and explanation and builds the :class:`~integrity.findings.Finding`. So the reviewer
who checks an award and the screening that later reads it in the ledger get one judgement.

An :class:`Award` holds the award's rows in the shapes the batch reads (an awarded project
row, participation rows, quote rows), their source being the request
(:data:`integrity.screening.evidence.REQUEST_SOURCE`) instead of a ledger row. An
:class:`AwardContext` answers, for this one award, the questions a batch rule answers with
joins over the whole district: who among the panel's kin holds a role at the supplier, how
two suppliers are related, what the catalogue says, which awards came before in the place.
The service's check index implements it from a finished screening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from integrity.findings import Finding
from integrity.screening.catalogue import Catalogue
from integrity.screening.evidence import PROJECT_COLUMNS
from integrity.screening.kin import Screening


@dataclass
class Award:
    # the project as a row of the projects table (the contract's columns): project_id, name,
    # category, amount, street, community, award_date, supplier_name, uscc, uscc_valid,
    # org_key, _file, _row (and funded_amount, declared_package, nominator_count)
    project: dict[str, Any]
    # who takes part in the decision: staff_id, staff_name, person_key, part_role (the step),
    # part_file, part_row — recused members are not on the panel
    panel: list[dict[str, Any]] = field(default_factory=list)
    # the quotes behind the award, the winner's included: org_key, supplier_name, amount,
    # selected, _file, _row
    quotes: list[dict[str, Any]] = field(default_factory=list)
    # steps panel members recused from (staff_id, part_role, part_file, part_row): they are
    # not on the panel for those steps, and a finding about another step says so
    recusals: list[dict[str, Any]] = field(default_factory=list)
    # role holders of the supplier named in the bid (name, id_number, role), beside those
    # the registry holds
    people: list[dict[str, Any]] = field(default_factory=list)

    @property
    def project_id(self) -> str:
        return str(self.project["project_id"])

    @property
    def org_key(self) -> str | None:
        key = self.project.get("org_key")
        return None if key is None else str(key)

    def awarded(self) -> dict[str, Any]:
        """The project as awarded_projects() gives its rows (project_name, project_file...)."""
        return {PROJECT_COLUMNS.get(k, k): v for k, v in self.project.items()}


@dataclass
class Assessment:
    """What one rule said of one award: its findings, or why it could not judge."""

    rule: str
    findings: list[Finding] = field(default_factory=list)
    checked: bool = True
    # why the rule could not judge the award (the data it lacked), or what it checked
    reason: str = ""

    @classmethod
    def unable(cls, rule: str, reason: str) -> Assessment:
        return cls(rule, [], checked=False, reason=reason)


class AwardContext(Protocol):
    """What a rule asks about one award (answered from a finished screening)."""

    @property
    def screening(self) -> Screening: ...

    @property
    def catalogue(self) -> Catalogue | None:
        """The catalogue (None when the screened dataset has none)."""
        ...

    def supplier_holders(self, award: Award) -> list[dict[str, Any]]:
        """The supplier's role holders: those the registry holds and those the bid names
        (``name``, ``role`` and their source's ``file``, ``row``, ``table``)."""
        ...

    def decision_kin(
        self, award: Award, roles: tuple[str, ...], floor: float
    ) -> list[dict[str, Any]]:
        """decision_kin's rows for this award: each (panel member or relative, role holder
        of the supplier) pair believed to be one person at ``floor`` or above, the kin row
        beside the holder's ``h_`` columns, with the award's project and participation
        columns."""
        ...

    def relations(self, pairs: list[tuple[str, str]], rule: str) -> pd.DataFrame:
        """org_relations on (a, b) pairs of organisation keys, weighed with the prior
        ``rule``'s batch run measured."""
        ...

    def history(self, award: Award, place: str, category: str, year: int) -> list[dict[str, Any]]:
        """split_bid's pieces awarded before in the place, category and year (the award's
        own project left out)."""
        ...

    def catalogue_near(self, core: str | None, code: str | None) -> list[dict[str, Any]]:
        """off_catalogue's near misses: catalogue entries named like the supplier under
        another USCC."""
        ...
