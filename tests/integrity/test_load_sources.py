"""A dataset's files read in two processes: the same dataset, the same issues in the same order."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pandas as pd
import pytest

from integrity.errors import DatasetError, InputIssue
from integrity.load import sources as loading
from integrity.load.dataset import Dataset, discover, load_dataset
from integrity.load.sources import split_by_size
from integrity.load.table import MAX_ISSUES_PER_KIND, Issues
from tests.conftest import STAFF_HEADER, WriteCsv, record_forks

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "longgang"


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the children forked."""
    return record_forks(monkeypatch, loading)


def _issue(file: str, code: str, n: int) -> InputIssue:
    return InputIssue("warning", code, file, f"第{n}条", f"number {n}", row=n, column="列")


@pytest.mark.parametrize("seed", range(6))
def test_issues_merged_in_order_are_those_added_one_by_one(seed: int) -> None:
    """Collected in chunks (a source each) and merged: the same listed issues, counts and
    summaries as one collector fed each in turn, across the per-kind limit."""
    rng = random.Random(seed)
    kinds = [("a.csv", "bad_date"), ("a.csv", "bad_amount"), ("b.csv", "bad_date")]
    issues = [_issue(*rng.choice(kinds), n) for n in range(3 * MAX_ISSUES_PER_KIND)]
    cuts = sorted(rng.sample(range(1, len(issues)), 4))
    one = Issues()
    for issue in issues:
        one.add(issue)
    merged = Issues()
    for start, stop in zip([0, *cuts], [*cuts, len(issues)], strict=True):
        chunk = Issues()
        for issue in issues[start:stop]:
            chunk.add(issue)
        merged.extend(chunk)
    assert merged.items == one.items
    assert merged.summaries() == one.summaries()
    assert merged.total("warning") == one.total("warning") == len(issues)
    assert any(s.message_en.endswith("in all)") for s in one.summaries())  # the limit was met


def test_the_files_split_by_size_a_workbooks_sheets_together(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "d")
    sources, _ = discover(tmp_path / "d")
    here, there = split_by_size(sources)
    assert sorted(here + there) == list(range(len(sources)))
    assert here and there
    largest = max(sources, key=lambda s: s.path.stat().st_size)
    assert sources.index(largest) in there  # the child takes the largest
    for half in (here, there):
        paths = {sources[i].path for i in half}
        others = {sources[i].path for i in set(range(len(sources))) - set(half)}
        assert not paths & others
    sizes = [sum(sources[i].path.stat().st_size for i in h) for h in (here, there)]
    assert max(sizes) - min(sizes) <= largest.path.stat().st_size


def _same(a: Dataset, b: Dataset) -> None:
    assert list(a.tables) == list(b.tables)
    for name, frame in a.tables.items():
        pd.testing.assert_frame_equal(frame, b.tables[name])
    assert a.sources == b.sources
    assert a.issues == b.issues
    assert (a.skipped_rows, a.warning_total, a.ignored_files) == (
        b.skipped_rows,
        b.warning_total,
        b.ignored_files,
    )


def test_the_demo_read_in_two_processes_is_the_demo(forks: list[str]) -> None:
    one = load_dataset(DEMO)
    assert forks == []
    _same(one, load_dataset(DEMO, jobs=2))
    assert forks == ["integrity-load"]


def _dirty(write_csv: WriteCsv) -> Path:
    """Errors and warnings in four files, one kind over the per-kind limit."""
    write_csv(
        "staff.csv",
        [*STAFF_HEADER, "身份证号"],
        [["S1", "甲", "龙城", "440307199001011233"], ["S1", "乙", "龙城", ""]],
    )
    rows = [[f"P{i}", "路灯", "工程类", "abc" if i % 2 else "100"] for i in range(600)]
    write_csv("projects.csv", ["项目编号", "项目名称", "项目类别", "金额"], rows)
    write_csv(
        "suppliers.csv",
        ["单位名称", "统一社会信用代码"],
        [[f"深圳市{i}公司", "91440300MA5DC6QX40"] for i in range(300)],
    )
    return write_csv(
        "quotes.csv",
        ["项目编号", "报价单位", "报价金额", "是否中选"],
        [["P1", "深圳市1公司", "100", "也许"], ["P2", "深圳市2公司", "x", "是"]],
    )


def test_errors_and_warnings_read_in_two_processes_are_the_same(
    write_csv: WriteCsv, forks: list[str]
) -> None:
    root = _dirty(write_csv)
    sources, _ = discover(root)
    here, there = split_by_size(sources)
    assert here and there  # the load does split
    with pytest.raises(DatasetError) as one:
        load_dataset(root)
    with pytest.raises(DatasetError) as two:
        load_dataset(root, jobs=2)
    assert one.value.issues == two.value.issues
    assert len({i.file for i in one.value.issues}) >= 3
    assert any("in all)" in i.message_en for i in one.value.issues)
    _same(load_dataset(root, lenient=True), load_dataset(root, lenient=True, jobs=2))
    assert forks == ["integrity-load", "integrity-load"]
