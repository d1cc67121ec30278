"""quote_screens on a ledger built to hold each screen once, beside what chance does: a cover
bidder that lost all of its 20 quotes (four suppliers took turns to win), a fixed set of three that met six times taking turns, a
community whose quotes sit within half a percent of each other; and, as decoys, a supplier that
lost 6 of 6 (chance: 9%) and the other community's ordinary quotes."""

from __future__ import annotations

from pathlib import Path

import pytest
from stdnum.cn import uscc

from integrity.findings import Finding
from integrity.load import load_dataset
from integrity.policy import load_profile
from integrity.scan import run_rules
from tests.conftest import WriteCsv

STREET = "龙城街道"
TIGHT, PLAIN = "爱联社区", "回龙埔社区"


def code(i: int) -> str:
    body = f"91440307MA5F{i:04d}0"
    return body + uscc.calc_check_digit(body)


NAMES = {i: f"深圳市{'甲乙丙丁戊己庚辛壬癸'[i]}服务有限公司" for i in range(10)}
COVER = 9  # quotes in 20 tenders, never wins
UNLUCKY = 8  # quotes in 6 tenders, never wins: chance 9%, not screened out... not flagged
RING = (0, 1, 2)  # the fixed set


def ledger() -> list[tuple[str, str, list[tuple[int, float, bool]]]]:
    """(project id, community, [(supplier, amount, selected)]) for 36 tenders."""
    out: list[tuple[str, str, list[tuple[int, float, bool]]]] = []
    # six tenders of the ring, the win passing round (plain community, ordinary spread)
    for n in range(6):
        base = 100_000 + 1_000 * n
        winner = RING[n % 3]
        losers = [s for s in RING if s != winner]
        bids = [(winner, base, True), (losers[0], base * 1.08, False)]
        bids.append((losers[1], base * 1.17, False))
        out.append((f"R{n}", PLAIN, bids))
    # twenty tenders the cover bidder loses; 3..7 take turns to win
    for n in range(20):
        base = 50_000 + 700 * n
        winner, other = 3 + n % 5, 3 + (n + 2) % 5
        tight = n < 12
        step = 0.004 if tight else 0.09
        community = TIGHT if tight else PLAIN
        far = 1.5 + (n % 5) * 0.6  # the cover quote 1.5 to 3.9 steps up: RD from 4 to 0.7
        bids = [
            (winner, base, True),
            (other, round(base * (1 + step), -1), False),
            (COVER, round(base * (1 + far * step), -1), False),
        ]
        out.append((f"C{n}", community, bids))
    # the unlucky one: six losses among ordinary quotes
    for n in range(6):
        base = 80_000 + 900 * n
        winner, other = 3 + n % 5, 3 + (n + 1) % 5
        bids = [
            (winner, base, True),
            (other, round(base * 1.06, -2), False),
            (UNLUCKY, round(base * 1.13, -2), False),
        ]
        out.append((f"U{n}", PLAIN, bids))
    # ordinary tenders so that the ledger has a population to compare with
    for n in range(4):
        base = 60_000 + 1_100 * n
        bids = [(3 + n, base, True), (3 + (n + 1) % 5, round(base * 1.11, -2), False)]
        bids.append((3 + (n + 3) % 5, round(base * 1.21, -2), False))
        out.append((f"O{n}", PLAIN, bids))
    return out


@pytest.fixture
def findings(write_csv: WriteCsv) -> list[Finding]:
    tenders = ledger()
    write_csv("staff.csv", ["人员编号", "姓名", "街道"], [["S0", "冯雪", STREET]])
    write_csv(
        "suppliers.csv",
        ["单位名称", "统一社会信用代码", "法定代表人"],
        [[NAMES[i], code(i), f"法人{i}"] for i in NAMES],
    )
    write_csv(
        "projects.csv",
        ["项目编号", "项目名称", "项目类别", "金额", "街道", "社区", "签约日期", "承接单位", "统一社会信用代码"],
        [
            [pid, f"{community}服务项目{pid}", "服务类", bids[0][1], STREET, community,
             "2024-06-01", NAMES[bids[0][0]], code(bids[0][0])]
            for pid, community, bids in tenders
        ],
    )  # fmt: skip
    folder: Path = write_csv(
        "quotes.csv",
        ["项目编号", "报价单位", "统一社会信用代码", "报价金额", "是否中选"],
        [
            [pid, NAMES[s], code(s), amount, "是" if chosen else "否"]
            for pid, _, bids in tenders
            for s, amount, chosen in bids
        ],
    )
    found, runs = run_rules(load_dataset(folder), load_profile("longgang-2023"), ["quote_screens"])
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
