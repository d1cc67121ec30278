"""Shared test helpers: tiny dataset folders written from Python literals."""

from __future__ import annotations

import csv
import io
import os
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


@pytest.fixture(autouse=True)
def _fresh_kinship_caches_under_mutation() -> None:
    """Under `make mutation` (mutmut) a mutant is switched on after the modules are imported
    and the tests collected: answers the kinship caches kept from then would come from the
    unmutated code and hide the mutant. Emptied before each test there, untouched otherwise."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        from graph import kinship  # noqa: PLC0415

        for cached in (kinship.simplify, kinship.birth_gap, kinship._terms_by_code):
            cached.cache_clear()


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


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test is a failed run: whatever a test needs, CI provides (the
    tests that can name what is missing fail themselves; this catches any other skip)."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == 0:
        names = ", ".join(sorted({r.nodeid for r in skipped})[:10])
        reporter.write_line(f"CI=true: {len(skipped)} skipped test(s) fail the run: {names}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def record_forks(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[str]:
    """The names of the children ``module`` forks through its ``Forked`` (integrity.forked),
    patched to record each name as the child starts."""
    started: list[str] = []

    class Recording(module.Forked):  # type: ignore[misc,name-defined]
        def __init__(self, name: str, fn: Any, *args: Any) -> None:
            started.append(name)
            super().__init__(name, fn, *args)

    monkeypatch.setattr(module, "Forked", Recording)
    return started
