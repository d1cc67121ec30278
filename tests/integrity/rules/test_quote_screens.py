"""quote_screens on the hand-written ledger fixtures/cases/quote_screens, built to hold each
screen once beside what chance does: a cover bidder that lost all of its 20 quotes (four
others took turns to win), a fixed set of three that met six times taking turns, a community
whose quotes sit within half a percent of each other; and, as decoys, a supplier that lost 6 of
6 (chance: 9%) and the other community's ordinary quotes."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc

from integrity.findings import Finding
from integrity.load.dataset import load_dataset
from integrity.policy import load_profile
from integrity.scan import run_rules
from tests.conftest import FIXTURES

CASE = FIXTURES / "cases" / "quote_screens"
STREET = "龙城街道"
TIGHT, PLAIN = "爱联社区", "回龙埔社区"


def code(i: int) -> str:
    body = f"91440307MA5F{i:04d}0"
    return body + uscc.calc_check_digit(body)


NAMES = {i: f"深圳市{'甲乙丙丁戊己庚辛壬癸'[i]}服务有限公司" for i in range(10)}
COVER = 9  # quotes in 20 tenders, never wins
UNLUCKY = 8  # quotes in 6 tenders, never wins: chance 9%, not reported
RING = (0, 1, 2)  # the fixed set


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    found, runs = run_rules(load_dataset(CASE), load_profile("longgang-2023"), ["quote_screens"])
    assert runs[0].status == "run", runs[0].reason
    return found


def screens(findings: list[Finding]) -> dict[tuple[str, ...], Finding]:
    out: dict[tuple[str, ...], Finding] = {}
    for f in findings:
        screen = str(f.details["screen"])
        key = (screen, *f.suppliers) if f.suppliers else (screen, str(f.community or f.street))
        out[key] = f
    return out


def test_each_screen_finds_what_was_built_and_nothing_else(findings: list[Finding]) -> None:
    found = screens(findings)
    assert set(found) == {
        ("repeat_loser", code(COVER)),
        ("fixed_set", *sorted(code(s) for s in RING)),
        ("low_spread", TIGHT),
    }


def test_the_cover_bidder(findings: list[Finding]) -> None:
    f = screens(findings)[("repeat_loser", code(COVER))]
    assert f.project_ids == sorted(f"C{n}" for n in range(20))
    # 20 three-way tenders: (2/3)^20; four suppliers screened (6 tenders or more)
    assert f.details["chance"] == pytest.approx((2 / 3) ** 20, rel=1e-4)
    screened = f.details["overall"] / f.details["chance"]
    assert screened == pytest.approx(10, rel=1e-3)  # all ten quoted in 6 tenders or more
    assert f.confidence >= 0.5 and f.severity == "low"
    assert f"{NAMES[COVER]}在本台账的20次比价中报价，一次也未中选" in f.explanation
    quoted = [e for e in f.evidence if e.kind == "quote"]
    assert len(quoted) == 60 and all(e.source and e.source.table == "quotes" for e in quoted)
    assert f.citation == "《中华人民共和国招标投标法实施条例》第三十九条"


def test_the_fixed_set_takes_turns(findings: list[Finding]) -> None:
    f = screens(findings)[("fixed_set", *sorted(code(s) for s in RING))]
    assert f.project_ids == [f"R{n}" for n in range(6)]
    assert "中选在其中轮流" in f.explanation
    assert all(f"{NAMES[s]}2次" in f.explanation for s in RING)


def test_the_tight_community_and_not_the_plain_one(findings: list[Finding]) -> None:
    f = screens(findings)[("low_spread", TIGHT)]
    assert f.project_ids == sorted(f"C{n}" for n in range(12))
    assert f.community == TIGHT and f.street == STREET
    assert f.details["median"] < 0.01 < f.details["ledger_median"]
    assert "离散系数" in f.explanation and "相对距离" in f.evidence[0].text


def test_evidence_each_tender_in_ledger_order_with_the_winner_marked(
    findings: list[Finding],
) -> None:
    f = screens(findings)[("repeat_loser", code(COVER))]
    rows = [e.source.row for e in f.evidence if e.kind == "quote" and e.source]
    tenders = [rows[i : i + 3] for i in range(0, len(rows), 3)]  # three quotes a tender
    assert len(tenders) == 20 and all(t == sorted(t) for t in tenders)  # type: ignore[type-var]
    first = f.evidence[0].text
    assert first == f"询价比价记录：C0 {NAMES[3]}，报价5.00万元，中选"
    assert f.evidence[2].text == f"询价比价记录：C0 {NAMES[COVER]}，报价5.03万元"
    assert [e.kind for e in f.evidence[-1:]] == ["policy"]


def test_with_a_smaller_prior_the_same_screens_are_leads() -> None:
    profile = load_profile("longgang-2023")
    settings = profile.rules["quote_screens"].model_copy(update={"screen_prior": 0.00001})
    lowered = profile.model_copy(update={"rules": {**profile.rules, "quote_screens": settings}})
    found, _ = run_rules(load_dataset(CASE), lowered, ["quote_screens"])
    cover = next(f for f in found if f.details["screen"] == "repeat_loser")
    assert cover.is_lead and cover.explanation.endswith("偶然的可能不能排除，仅作线索待核。")
    ring = next(f for f in found if f.details["screen"] == "fixed_set")
    assert not ring.is_lead and ring.explanation.endswith("需调取报价文件核查。")
