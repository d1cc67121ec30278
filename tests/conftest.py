"""Shared test helpers: tiny dataset folders written from Python literals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
DEMO = FIXTURES / "demo" / "longgang"
# the programme documents the profiles quote: a copy in fixtures/seeds (so that a clone
# without ../shared checks its quotes too), kept equal to ../shared/seeds where that exists
SHARED_SEEDS = REPO.parent / "shared" / "seeds"
SEEDS = FIXTURES / "seeds"

WriteCsv = Callable[..., Path]


def csv_bytes(
    header: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str = "utf-8"
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """write_csv("staff.csv", header, rows, encoding="gbk") -> the dataset folder."""

    def write(
        name: str, header: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str = "utf-8"
    ) -> Path:
        (tmp_path / name).write_bytes(csv_bytes(header, rows, encoding))
        return tmp_path

    return write


STAFF_HEADER = ["人员编号", "姓名", "街道"]
STAFF_ROWS = [["S1", "王小明", "龙城街道"]]
