"""The supplier's role holders as one check reads them: plain arrays, no frames.

A check compares its panel's kin with a handful of holders (seven on average at city scale).
Sliced out of the screening's holders frame, those few rows cost more in pandas' bookkeeping
than the comparison itself; the index therefore keeps the columns a check reads as arrays,
in the frame's order (sorted by organisation), and a check takes a span of them. Only when
some pair is worth scoring are the rows taken back as a frame, for the resolver's own
scoring (:func:`integrity.identity.scoring.score_in_context`), so the judgement stays the
batch's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from integrity.findings import REQUEST_SOURCE
from integrity.identity.family import in_county, weighable
from integrity.identity.ids import ric_normalise
from integrity.identity.mentions import prepare
from integrity.identity.names import person_name
from integrity.screening.award import Award
from integrity.screening.evidence import text

# the columns of a holder a check shows the reviewer (the supplier's holder list)
SHOWN = ("name", "role", "file", "row", "table")


def _present(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].notna().to_numpy()


def _strings(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The column's values as str (empty for a missing value), as object array."""
    return np.array([v if isinstance(v, str) else "" for v in frame[column]], dtype=object)


@dataclass
class HolderArrays:
    """The blocking and display columns of a holders frame, as arrays in its row order."""

    key: np.ndarray  # the person key, as str
    name_norm: np.ndarray  # the normalised name ("" when there is none)
    birth: np.ndarray  # bool: a birth date is known
    phone: np.ndarray  # bool: a phone number is known
    id_valid: np.ndarray  # bool: a valid ID number whose region may be weighed (family.weighable)
    county: np.ndarray  # bool: else a company's county that may be weighed (family.in_county)
    role: np.ndarray
    shown: dict[str, np.ndarray]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> HolderArrays:
        return cls(
            # the frame's own strings (astype(str) would copy every one into the kept file)
            key=np.array([k if isinstance(k, str) else str(k) for k in frame["key"]], dtype=object),
            name_norm=_strings(frame, "name_norm"),
            birth=_present(frame, "birth"),
            phone=_present(frame, "phone"),
            id_valid=weighable(frame) if "id_valid" in frame else np.zeros(len(frame), bool),
            county=in_county(frame) if "id_valid" in frame else np.zeros(len(frame), bool),
            role=frame["role"].to_numpy(dtype=object),
            shown={c: frame[c].to_numpy(dtype=object) for c in SHOWN if c in frame},
        )

    def take(self, at: np.ndarray) -> HolderArrays:
        return HolderArrays(
            key=self.key[at],
            name_norm=self.name_norm[at],
            birth=self.birth[at],
            phone=self.phone[at],
            id_valid=self.id_valid[at],
            county=self.county[at],
            role=self.role[at],
            shown={c: v[at] for c, v in self.shown.items()},
        )

    def then(self, other: HolderArrays) -> HolderArrays:
        """These rows followed by ``other``'s."""
        return HolderArrays(
            key=np.concatenate([self.key, other.key]),
            name_norm=np.concatenate([self.name_norm, other.name_norm]),
            birth=np.concatenate([self.birth, other.birth]),
            phone=np.concatenate([self.phone, other.phone]),
            id_valid=np.concatenate([self.id_valid, other.id_valid]),
            county=np.concatenate([self.county, other.county]),
            role=np.concatenate([self.role, other.role]),
            shown={c: np.concatenate([v, other.shown[c]]) for c, v in self.shown.items()},
        )

    def __len__(self) -> int:
        return len(self.key)


def given_holders(award: Award) -> pd.DataFrame | None:
    """The people the bid names (the legal representative written on it, with an ID number
    where known) as holder rows, prepared as the screening prepares its own; None if the
    bid names nobody."""
    given: list[dict[str, Any]] = []
    for person in award.people:
        name = text(person.get("name"))
        if not name:
            continue
        number, problem = ric_normalise(text(person.get("id_number")) or "")
        valid = bool(text(person.get("id_number"))) and problem is None
        given.append(
            {
                "org_key": award.org_key or "request:supplier",
                "org_name": text(award.project.get("supplier_name")) or "（申报单位）",
                "key": f"id:{number}" if valid else f"request:{person_name(name)}",
                "name": name,
                "id_number": number if valid else None,
                "id_valid": valid,
                "phone": None,
                "role": text(person.get("role")) or "法定代表人",
                "share": None,
                "file": REQUEST_SOURCE,
                # its number's region is never weighed against a family's (family.weighable)
                "fam_blind": True,
                "row": None,
                "table": "supplier_people",
            }
        )
    if not given:
        return None
    return prepare(pd.DataFrame(given), with_pinyin=False)


@dataclass
class AwardHolders:
    """One award's holders: the registered ones (``positions`` in the index's holders
    frame) followed by the bid's own (``given``), with their arrays in that order."""

    positions: np.ndarray
    given: pd.DataFrame | None
    arrays: HolderArrays

    def __len__(self) -> int:
        return len(self.arrays)

    def records(self) -> list[dict[str, Any]]:
        """The shown columns, one record per holder."""
        cols = self.arrays.shown
        return [{c: v[i] for c, v in cols.items()} for i in range(len(self))]

    def frame(self, holders: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
        """The rows ``at`` (positions in this award's holder order) as a frame of the
        holders' columns, for the resolver's scoring."""
        registered: pd.DataFrame = holders.iloc[self.positions[at[at < len(self.positions)]]]
        if self.given is None:
            out: pd.DataFrame = registered.reset_index(drop=True)
            return out
        # the bid's rows beside the registered ones, the columns of both (as the batch's
        # holders and the bid's prepared rows are concatenated)
        extra = at[at >= len(self.positions)] - len(self.positions)
        both: pd.DataFrame = pd.concat([registered, self.given.iloc[extra]], ignore_index=True)
        return both
