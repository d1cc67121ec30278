"""Work in a forked child (integrity.forked): its answer, its error, its death; the rules'
common queue; the findings workbook written beside the other files."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from integrity.documents import output
from integrity.forked import Forked, can_fork
from integrity.scan import _take, run_scan
from tests.conftest import DEMO

pytestmark = pytest.mark.skipif(not can_fork(), reason="this platform does not fork")


def _double(x: int) -> int:
    return 2 * x


def _fail(message: str) -> None:
    raise ValueError(message)


def _die() -> None:
    os._exit(7)


def _sleep() -> None:
    time.sleep(60)


def _streams() -> tuple[bool, bool, int]:
    sys.stderr.write("a warning from the child\n")
    return sys.stderr is sys.__stderr__, sys.stdout is sys.__stdout__, sys.stderr.fileno()


def test_the_child_writes_through_streams_of_its_own_on_the_same_descriptors(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A lock the parent's progress thread held on a stream at the fork would be held in the
    child for ever: the child writes through new streams on the same descriptors."""
    same_err, same_out, fd = Forked("streams", _streams).result()
    assert not same_err and not same_out
    assert fd == 2
    assert "a warning from the child" in capfd.readouterr().err


def test_the_childs_answer_comes_back() -> None:
    assert Forked("double", _double, 21).result() == 42
    assert not mp.active_children()


def test_the_childs_error_is_raised_here_with_its_traceback() -> None:
    with pytest.raises(ValueError, match="on purpose") as caught:
        Forked("fail", _fail, "on purpose").result()
    assert "child process" in str(caught.value.__cause__)
    assert "_fail" in str(caught.value.__cause__)  # the child's traceback


def test_a_child_that_dies_without_answering_is_an_error_naming_it() -> None:
    with pytest.raises(RuntimeError, match=r"exit code 7.*dying"):
        Forked("dying", _die).result()


def test_closing_stops_a_child_at_work() -> None:
    began = time.perf_counter()
    Forked("sleeper", _sleep).close()
    assert time.perf_counter() - began < 10
    assert not mp.active_children()


def _drain(codes: list[str], taken: object, pause: float) -> list[str]:
    mine = []
    for code in _take(codes, taken):  # type: ignore[arg-type]
        mine.append(code)
        time.sleep(pause)
    return mine


def test_both_processes_take_from_one_queue_each_rule_once() -> None:
    codes = [f"r{i}" for i in range(40)]
    taken = mp.get_context("fork").Value("i", 0)
    child = Forked("drain", _drain, codes, taken, 0.005)
    here = _drain(codes, taken, 0.005)
    there = child.result()
    assert sorted(here + there) == sorted(codes)
    assert here and there  # both were at work: the queue is shared, not split beforehand
    assert here == sorted(here, key=codes.index) and there == sorted(there, key=codes.index)


def _cells(path: Path) -> list[list[list[object]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets]


def test_the_workbook_written_in_a_child_is_the_one_written_here(tmp_path: Path) -> None:
    result = run_scan(DEMO, policy="longgang-2023")
    started = time.perf_counter()
    output.write_outputs(result, tmp_path / "one", started, jobs=1)
    output.write_outputs(result, tmp_path / "two", started, jobs=2)
    assert _cells(tmp_path / "one" / "findings.xlsx") == _cells(tmp_path / "two" / "findings.xlsx")
    for name in ("findings.json", "findings.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_a_failed_workbook_child_writes_nothing_and_keeps_earlier_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_scan(DEMO, policy="longgang-2023", rules=["over_cap"])
    out = tmp_path / "out"
    output.write_outputs(result, out, time.perf_counter(), jobs=2)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: object) -> None:
        raise OSError("disk full on purpose")

    monkeypatch.setattr(output, "write_findings_xlsx", broken)  # the child inherits it
    with pytest.raises(OSError, match="on purpose"):
        output.write_outputs(result, out, time.perf_counter(), jobs=2)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert not mp.active_children()
