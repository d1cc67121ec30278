"""funding_share beyond its case's findings: what it says when it cannot judge, and the
social-support floor exactly at its value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from integrity.findings import Finding
from integrity.load.dataset import load_dataset
from integrity.policy import Profile, load_profile
from integrity.scan import RuleRun, run_rules
from tests.conftest import FIXTURES

CASE = FIXTURES / "cases" / "funding_share"
SOCIAL_MIN = "funding_share.social_projects_min"


def run(profile: Profile) -> tuple[list[Finding], RuleRun]:
    findings, runs = run_rules(load_dataset(CASE), profile, ["funding_share"])
    return findings, runs[0]


def with_social_min(value: float) -> Profile:
    profile = load_profile("haicang-2018")
    settings = profile.rules["funding_share"]
    provisions = dict(settings.provisions)
    provisions[SOCIAL_MIN] = provisions[SOCIAL_MIN].model_copy(update={"value": value})
    changed = settings.model_copy(update={"provisions": provisions})
    return profile.model_copy(update={"rules": {**profile.rules, "funding_share": changed}})


def social(findings: list[Finding]) -> set[str]:
    return {
        str(f.details["scope"]["street"]) for f in findings if f.details["provision"] == SOCIAL_MIN
    }


def test_a_street_with_no_social_funds_written_is_said_not_judged() -> None:
    findings, ran = run(load_profile("haicang-2018"))
    assert ran.notes == [
        "沧江街道2024年度的项目均未填写社会资金（空白不等于零），未判断社会力量参与比例。"
    ]
    assert social(findings) == {"东孚街道", "海沧街道"}  # 海沧, after 沧江, still judged


def test_the_floor_exactly_at_its_value_is_met() -> None:
    # 东孚: 1 of 4 projects with social funds = 25%
    assert "东孚街道" not in social(run(with_social_min(0.25))[0])
    assert "东孚街道" in social(run(with_social_min(0.2501))[0])
    # 嵩屿: 1 of 3; 新阳: 3 of 8 = 37.5%
    assert social(run(with_social_min(0.375))[0]) == {"东孚街道", "嵩屿街道", "海沧街道"}


def test_without_the_overhead_and_social_columns_only_the_government_share_is_judged(
    tmp_path: Path,
) -> None:
    """A provision whose column the ledger lacks is not judged (and nothing breaks): the
    case's ledger without 管理费 and 社会资金."""
    frame = pd.read_csv(CASE / "projects.csv", dtype=str)
    frame.drop(columns=["管理费（万元）", "社会资金（万元）"]).to_csv(
        tmp_path / "projects.csv", index=False
    )
    shutil.copy(CASE / "staff.csv", tmp_path / "staff.csv")
    findings, runs = run_rules(
        load_dataset(tmp_path), load_profile("haicang-2018"), ["funding_share"]
    )
    assert runs[0].status == "run"
    assert {f.details["provision"] for f in findings} == {"funding_share.government_share_max"}
    assert sorted(f.details["scope"]["project"] for f in findings) == ["FS-G1", "FS-W2"]
