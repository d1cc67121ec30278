"""The kin links as a finding's explanation reads them: a link's row by its id, and the
term a link reads backwards (登记为 B 的妻子是 A: A —丈夫→ B)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from graph.expand import invert
from graph.kinship import describe, parse_code


@dataclass
class LinkLookup:
    frame: pd.DataFrame
    cache: dict[str, dict[str, Any]] | None = None

    def __getitem__(self, link_id: str) -> dict[str, Any]:
        if self.cache is None:
            self.cache = {}
        hit = self.cache.get(link_id)
        if hit is None:
            row = self.frame.loc[link_id]
            if isinstance(row, pd.DataFrame):
                row = row.iloc[0]
            hit = {str(k): v for k, v in row.to_dict().items()}
            self.cache[link_id] = hit
        return hit

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the rows looked up so far (the batch's explanations)."""
        return {"frame": self.frame, "cache": None}


def inverse_term(code: str, src_sex: Any) -> str:
    sex = src_sex if src_sex in ("男", "女") else None
    return describe(invert(parse_code(code), sex))
