"""Every provision of every profile has a status in a run: checked by a named rule, not
checked with the reason (the columns that would let it be), or not applicable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrity.cli import app
from integrity.policy import available_profiles, load_profile
from integrity.provisions import ProvisionStatus
from integrity.rules import REGISTRY
from integrity.scan import run_scan
from tests.conftest import FIXTURES

BARE = FIXTURES / "cases" / "over_cap"  # a ledger with none of the programme columns
TIMELINE = FIXTURES / "cases" / "timeline"


def statuses(dataset: Path, policy: str) -> dict[str, ProvisionStatus]:
    return {p.key: p for p in run_scan(dataset, policy=policy).provisions}


@pytest.mark.parametrize("policy", available_profiles())
def test_every_provision_of_the_profile_has_a_status(policy: str) -> None:
    profile = load_profile(policy)
    got = statuses(BARE, policy)
    wanted = {p.key for p in profile.provisions}
    named = {p.rule for p in profile.provisions}
    # a rule no provision names stands for its own clause
    wanted |= {c for c in profile.rules if c not in named and not REGISTRY[c].programme}
    wanted |= set(profile.rules_not_applicable)
    assert wanted <= set(got), wanted - set(got)
    for p in got.values():
        assert p.status in ("checked", "not_checked", "not_applicable"), p
        if p.status == "checked":
            assert p.rule in REGISTRY and p.clause, p
        else:
            assert p.reason, f"{policy} {p.key}: {p.status} without a reason"
        if p.status != "not_applicable":
            assert p.clause, p
    provision = {p.key: p for p in profile.provisions}
    for key, p in provision.items():
        if p.rule is None:  # a provision no ledger can show says why, in the profile
            assert got[key].status == "not_checked" and got[key].reason == p.unchecked


def test_a_ledger_without_the_programme_columns_names_what_would_let_them_be_checked() -> None:
    got = statuses(BARE, "longgang-2023")
    council = got["timeline.council_after_screening"]
    assert council.status == "not_checked" and council.rule == "timeline"
    assert council.missing == (
        "项目台账.筛选日期（screening_date）",
        "项目台账.议事日期（council_date）",
    )
    assert "项目台账.筛选日期（screening_date）" in council.reason
    assert got["lifecycle.accepted_after_award"].missing == (
        "项目台账.签约日期（award_date）",
        "项目台账.验收日期（acceptance_date）",
    )
    quotes = got["quotes_process.three_quotes"]  # a whole table absent
    assert quotes.status == "not_checked" and "quotes" in quotes.reason
    # the over_cap ledger has street, category and amount: the works share is checked
    assert got["works_share.min_ratio"].status == "checked"


def test_the_same_provisions_are_checked_once_the_columns_are_there() -> None:
    got = statuses(TIMELINE, "longgang-2023")
    for key in (
        "timeline.council_after_screening",
        "timeline.council_publicity",
        "timeline.leadership_meeting",
        "timeline.decision_publicity",
        "timeline.filing",
    ):
        assert got[key].status == "checked" and got[key].missing == (), got[key]


def test_a_provision_whose_columns_are_absent_is_never_judged(tmp_path: Path) -> None:
    """罗湖's 200万 per community-year needs the community column: without it no finding (not
    "every project in one community"), and the provision says it was not checked."""
    lines = (FIXTURES / "cases" / "community_budget" / "projects.csv").read_text("utf-8")
    rows = [line.split(",") for line in lines.splitlines()]
    keep = [i for i, h in enumerate(rows[0]) if h != "社区"]
    (tmp_path / "projects.csv").write_text(
        "\n".join(",".join(r[i] for i in keep) for r in rows) + "\n", encoding="utf-8"
    )
    (tmp_path / "staff.csv").write_bytes((BARE / "staff.csv").read_bytes())
    result = run_scan(tmp_path, policy="luohu-2017", rules=["community_budget"])
    assert [f for f in result.findings if f.rule == "community_budget"] == []
    per = {p.key: p for p in result.provisions}["community_budget.max_per_community"]
    assert per.status == "not_checked" and per.missing == ("项目台账.社区（community）",)


def test_run_json_and_the_summary_list_the_provisions(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["scan", str(BARE), "--policy", "longgang-2023", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    entries = {p["key"]: p for p in run["provisions"]}
    assert set(entries["timeline.filing"]) >= {"key", "clause", "status", "rule", "reason"}
    assert entries["timeline.filing"]["status"] == "not_checked"
    assert entries["timeline.filing"]["clause"] == "深龙民规〔2023〕5号 第十五条第（六）项"
    assert "未检查的政策条款及原因" in result.output
    assert "timeline.filing" in result.output and "备案日期（filing_date）" in result.output
