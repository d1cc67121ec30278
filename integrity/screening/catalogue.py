"""The service catalogue (项目库): its entries by USCC and by name core, each with its dates
in the catalogue, as off_catalogue and the pre-award check look a supplier up."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd
from rapidfuzz import fuzz, process

from integrity.identity.names import org_name
from integrity.screening.spans import group_spans


def catalogue_date(value: Any) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value)


def name_core(value: Any) -> str | None:
    """A supplier name as the catalogue compares names (org_name's comparable core)."""
    return None if value is None or pd.isna(value) else org_name(str(value))


def _entries(catalogue: pd.DataFrame) -> pd.DataFrame:
    c = catalogue.copy()
    c["core"] = c["supplier_name"].map(name_core)
    valid = c.get("uscc_valid", pd.Series(False, index=c.index)).fillna(False).astype(bool)
    c["code"] = c["uscc"].where(valid) if "uscc" in c else None
    for col in ("valid_from", "valid_to", "level"):
        if col not in c:
            c[col] = None
    return c


class Groups(Mapping[str, pd.DataFrame]):
    """A frame's rows grouped by one column, as a mapping (value -> its rows, in their
    order, with their index: what ``dict(frame.groupby(column))`` gives), kept as one frame
    sorted by the column and each value's span in it: a district's tens of thousands of
    small groups are sliced when asked for, not built (or pickled) one frame each."""

    def __init__(self, frame: pd.DataFrame, column: str) -> None:
        rows = frame.dropna(subset=[column])
        order, self.spans = group_spans(rows[column].astype(str).to_numpy(), sort=True)
        self.frame = rows.iloc[order]

    def __getitem__(self, key: str) -> pd.DataFrame:
        a, b = self.spans[key]
        return self.frame.iloc[a:b]

    def records(self, key: str) -> list[dict[str, Any]]:
        """The rows of ``key`` as dicts (column -> value), without a frame per lookup."""
        a, b = self.spans[key]
        return self._records[a:b]

    @cached_property
    def _records(self) -> list[dict[str, Any]]:
        return [{str(k): v for k, v in r.items()} for r in self.frame.to_dict("records")]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_records", None)  # rebuilt when asked for, not pickled twice
        return state

    def __iter__(self) -> Iterator[str]:
        return iter(self.spans)

    def __len__(self) -> int:
        return len(self.spans)

    def __contains__(self, key: object) -> bool:
        return key in self.spans


@dataclass
class Catalogue:
    """The catalogue's entries by USCC and by name core, as the rule and the pre-award check
    look a supplier up."""

    by_code: Groups
    by_core: Groups
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # 入库编号 -> its entry

    @classmethod
    def of(cls, table: pd.DataFrame) -> Catalogue:
        entries = _entries(table)
        items = (
            {
                str(r["item_id"]): {str(k): v for k, v in r.items()}
                for r in entries.dropna(subset=["item_id"]).to_dict("records")
            }
            if "item_id" in entries
            else {}
        )
        return cls(Groups(entries, "code"), Groups(entries, "core"), items)

    @property
    def cores(self) -> list[str]:
        found: list[str] | None = self.__dict__.get("_cores")
        if found is None:
            found = self.__dict__["_cores"] = list(self.by_core)
        return found

    def entries_of(self, code: str | None, core: str | None) -> pd.DataFrame | None:
        """The supplier's own entries: same USCC; without one on either side, same name core
        (a bare name carried by two catalogue suppliers: no guess)."""
        mine = self.by_code.get(code) if code else None
        if mine is None and core is not None and core in self.by_core:
            named = self.by_core[core]
            mine = named[named["code"].isna() | (code is None)]
            if code is None and named["code"].nunique() > 1:
                mine = None
            mine = mine if mine is not None and len(mine) else None
        return mine

    @staticmethod
    def valid_on(mine: pd.DataFrame, when: pd.Timestamp) -> bool:
        return bool(len(Catalogue.valid_entries(mine, when)))

    @staticmethod
    def valid_entries(mine: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
        """The entries in the catalogue on ``when`` (no date out: still in)."""
        starts = pd.to_datetime(mine["valid_from"])
        ends = pd.to_datetime(mine["valid_to"])
        return mine[(starts.isna() | (starts <= when)) & (ends.isna() | (ends >= when))]

    def near(self, code: str | None, core: str | None, ratio: float) -> list[dict[str, Any]]:
        """Entries whose name core is the same or close but whose USCC differs."""
        if not core:
            return []
        # one name: one thread (cdist's threads cost more than they save, and a service's
        # other workers want the other core)
        cores = self.cores
        found = process.extract(core, cores, scorer=fuzz.ratio, score_cutoff=ratio, limit=None)
        close = [cores[j] for j in sorted(j for _, _, j in found)]
        return near_entries(close, code, self.by_core)


def near_names(cores: pd.Series, catalogue: list[str], ratio: float) -> dict[str, list[str]]:
    """For each supplier name core, the catalogue cores at least ``ratio`` similar: one
    vectorised similarity matrix over the distinct names (rapidfuzz cdist)."""
    queries = sorted({str(c) for c in cores.dropna()})
    if not queries or not catalogue:
        return {}
    scores = process.cdist(queries, catalogue, scorer=fuzz.ratio, score_cutoff=ratio, workers=-1)
    return {
        q: [catalogue[j] for j in scores[i].nonzero()[0]]
        for i, q in enumerate(queries)
        if scores[i].any()
    }


def near_entries(close: list[str], code: str | None, by_core: Groups) -> list[dict[str, Any]]:
    """Catalogue entries (as dicts) whose name is the same or close but whose USCC differs."""
    if not close or not code:
        return []
    return [
        r for c in close for r in by_core.records(c) if pd.notna(r["code"]) and r["code"] != code
    ]
