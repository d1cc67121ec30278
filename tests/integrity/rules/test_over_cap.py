"""over_cap on its hand-written case under each profile (the golden files are checked with
the other cases, tests/integrity/rules/test_cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrity.findings import Finding
from integrity.load.dataset import load_dataset
from integrity.policy import load_profile
from integrity.scan import run_rules
from tests.conftest import FIXTURES

CASE = FIXTURES / "cases" / "over_cap"


def run(policy: str) -> list[Finding]:
    findings, _ = run_rules(load_dataset(CASE), load_profile(policy), ["over_cap"])
    return findings


@pytest.mark.parametrize(
    ("policy", "flagged"),
    [
        ("longgang-2023", {"P02": "high", "P03": "high"}),
        ("haicang-2018", dict.fromkeys(("P01", "P02", "P03", "P04", "P06"), "medium")),
        ("luohu-2017", {"P01": "high", "P02": "high", "P03": "high", "P05": "high"}),
    ],
)
def test_which_projects_are_flagged(policy: str, flagged: dict[str, str]) -> None:
    assert {f.project_ids[0]: f.severity for f in run(policy)} == flagged


def test_a_finding_reads_as_a_referral() -> None:
    finding = next(f for f in run("longgang-2023") if f.project_ids == ["P02"])
    assert finding.citation == "深龙民规〔2023〕5号 第二十一条"
    assert "服务类单项上限50.00万元" in finding.explanation
    assert finding.confidence == 1.0
    project_step, policy_step = finding.evidence
    assert (project_step.source.file, project_step.source.row) == ("projects.csv", 3)  # type: ignore[union-attr]
    assert "不超过50万元" in policy_step.text
    assert finding.suppliers == ["深圳市乙服务中心"]  # no USCC in the ledger: the name


def test_haicang_compares_the_funded_part_when_the_ledger_has_it() -> None:
    by_project = {f.project_ids[0]: f for f in run("haicang-2018")}
    assert "P05" not in by_project  # 300,000 in all, 150,000 funded: under 200,000
    assert "自筹" in by_project["P01"].explanation


def test_ids_are_stable_and_differ_by_policy(tmp_path: Path) -> None:
    first = [f.finding_id for f in run("longgang-2023")]
    assert first == [f.finding_id for f in run("longgang-2023")]
    assert set(first).isdisjoint(f.finding_id for f in run("luohu-2017"))
