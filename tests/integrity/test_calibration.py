"""The calibration map: monotone, invertible for the blocking's floors, applied to name-only
links and never to ID-decided ones, and shown as a reason so the reasons add up."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric

from integrity.documents.words import plain_step
from integrity.identity import calibration
from integrity.identity.blocking import need_bits
from integrity.identity.calibration import (
    CALIBRATION_LABEL,
    CONTEXTS,
    NAME_ONLY_MAX,
    NAME_ONLY_MIN,
    PANEL,
    ROSTER,
    Calibration,
    Levels,
)
from integrity.identity.mentions import name_frequencies, prepare
from integrity.identity.scoring import score
from integrity.load.dataset import load_dataset
from integrity.policy import load_profile
from integrity.rules import ScanContext
from integrity.screening.decisions import decision_kin
from integrity.screening.kin import Screening
from integrity.screening.org_relations import identity_evidence
from tests.conftest import DEMO, WriteCsv


def idn(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def test_the_committed_maps_cover_every_context_and_are_monotone() -> None:
    body = json.loads(calibration.CALIBRATION_FILE.read_text(encoding="utf-8"))
    assert body["fitted_on"]
    grid = np.linspace(0.0, 1.0, 1001)
    for context in CONTEXTS:
        levels = calibration.levels(context)
        assert list(levels.rates) == sorted(levels.rates)
        between = [np.sqrt(a * b) for a, b in zip(levels.rates, levels.rates[1:], strict=False)]
        for rate in [None, 0.0, *levels.rates, *between, 0.9]:
            m = calibration.current(calibration.qualified(context, rate))
            assert np.all(np.diff(m.raw) >= 0) and np.all(np.diff(m.calibrated) >= 0)
            stated = m(grid)
            assert np.all(np.diff(stated) >= 0)
            assert stated.max() <= NAME_ONLY_MAX  # a name never states certainty
    # the roster's posterior is measured, not mapped (bench/calibration.py FITTED): only capped
    roster = calibration.current(ROSTER)
    assert roster.one(0.5) == 0.5 and roster.one(0.999) == NAME_ONLY_MAX


def test_written_maps_read_back_the_same(tmp_path: Path) -> None:
    maps = {c: calibration.levels(c) for c in CONTEXTS}
    target = tmp_path / "calibration.json"
    calibration.write(dict(maps), fitted_on="a test", path=target)
    body = json.loads(target.read_text(encoding="utf-8"))
    assert body["fitted_on"] == "a test"
    assert calibration.read(target) == maps
    # a context with several levels is written as levels, one with a single map as that map
    two = Levels((0.001, 0.1), (Calibration.from_knots([0, 1], [0, 1]), lifted_map()))
    calibration.write(dict.fromkeys(CONTEXTS, two), fitted_on="two", path=target)
    assert calibration.read(target)[PANEL] == two


def lifted_map() -> Calibration:
    return Calibration.from_knots([0.0, 0.1, 1.0], [0.0, 0.5, 0.999])


def test_the_map_between_two_levels_mixes_them_on_a_log_scale() -> None:
    """Fitted at a namesake rate of 0.001 (names nearly unique: a name match lifted) and 0.1
    (crowded: the posterior as it is), the data's own rate picks the map: each level's own
    at its rate and beyond, halfway (on a log scale) the mean of the two, and the most
    crowded level where the rate is not known."""
    plain = Calibration.from_knots([0.0, 1.0], [0.0, 1.0])
    levels = Levels((0.001, 0.1), (lifted_map(), plain))
    for p in (0.05, 0.1, 0.3, 0.7):
        assert levels.at(0.0).one(p) == pytest.approx(lifted_map().one(p))
        assert levels.at(0.001).one(p) == pytest.approx(lifted_map().one(p))
        assert levels.at(0.5).one(p) == pytest.approx(plain.one(p))
        assert levels.at(None).one(p) == pytest.approx(plain.one(p))
        mid = (lifted_map().one(p) + plain.one(p)) / 2
        assert levels.at(0.01).one(p) == pytest.approx(mid, abs=1e-6)
        # more crowded, less lifted
        assert levels.at(0.003).one(p) >= levels.at(0.03).one(p)
    # the blocking's floor follows the mixed map
    assert levels.at(0.01).raw_floor(0.5) < plain.raw_floor(0.5)


def test_a_qualified_context_reads_its_rate_and_qualifies_once() -> None:
    levels = calibration.levels(PANEL)
    between = float(np.sqrt(levels.rates[0] * levels.rates[1]))
    q = calibration.qualified(PANEL, between)
    assert q == f"panel@{between:.6g}" and calibration.qualified(q, 0.5) == q
    assert calibration.current(q) == levels.at(float(f"{between:.6g}"))
    assert calibration.current(q) != calibration.current(PANEL)  # the rate chose the map
    assert calibration.current(PANEL) == levels.at(None)
    # no rate, a rate that is not a number, or a context of one level: as it is
    assert calibration.qualified(PANEL, None) == PANEL
    assert calibration.qualified(PANEL, float("nan")) == PANEL
    assert calibration.qualified(ROSTER, between) == ROSTER


@pytest.mark.parametrize("context", [c for c in CONTEXTS if c != ROSTER])
def test_a_name_match_never_weighs_more_where_names_crowd_more(context: str) -> None:
    """Along the committed levels and between them, at every posterior, a more crowded
    data's map states no more than a less crowded one's; the unqualified map (no rate known)
    is the most sceptical."""
    levels = calibration.levels(context)
    assert len(levels.maps) > 1
    grid = np.linspace(0.0, 1.0, 401)
    rates = np.geomspace(levels.rates[0] / 10, levels.rates[-1] * 10, 40)
    stated = np.array([levels.at(float(r))(grid) for r in rates])
    assert np.all(np.diff(stated, axis=0) <= 1e-9)
    assert np.all(levels.at(None)(grid) <= stated.min(axis=0) + 1e-9)


def test_knots_that_go_down_are_refused() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        Calibration.from_knots([0.0, 0.5, 0.4], [0.0, 0.2, 0.3])
    with pytest.raises(ValueError, match="non-decreasing"):
        Calibration.from_knots([0.0, 0.5, 1.0], [0.0, 0.6, 0.3])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Calibration.from_knots([0.0, 1.5], [0.0, 0.6])


@pytest.mark.parametrize("context", CONTEXTS)
def test_raw_floor_is_the_least_posterior_that_reaches_the_floor(context: str) -> None:
    m = calibration.current(context)
    for floor in (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9):
        raw = m.raw_floor(floor)
        if raw >= 1.0:
            assert m.one(1.0) < floor
            continue
        assert m.one(raw) >= floor - 1e-9
        assert m.one(max(raw - 1e-6, 0.0)) < floor + 1e-9


def test_raw_floor_of_a_map_with_a_flat_step() -> None:
    m = Calibration.from_knots([0.0, 0.2, 0.4, 1.0], [0.0, 0.5, 0.5, 0.9])
    assert m.raw_floor(0.5) == pytest.approx(0.2)
    assert m.raw_floor(0.25) == pytest.approx(0.1, abs=1e-3)  # the first knot is 0.0001
    assert m.raw_floor(0.95) == 1.0  # never reached
    # beyond its last knot the map is constant; below its first it runs to the origin: a
    # posterior below what was fitted is stated in proportion, not at the first knot's share
    # (a pair the names all but rule out is not lifted to it, nor then multiplied by more
    # evidence weighed after the map)
    shifted = Calibration.from_knots([0.1, 0.5], [0.2, 0.8])
    assert shifted.one(1.0) == pytest.approx(0.8)
    assert shifted.one(0.05) == pytest.approx(0.1)
    assert shifted.one(0.0) == calibration.NAME_ONLY_MIN
    assert shifted(np.array([0.05]))[0] == pytest.approx(0.1)
    assert shifted.raw_floor(0.1) == pytest.approx(0.05) and shifted.raw_floor(0.5) == (
        pytest.approx(0.3)
    )
    assert shifted.raw_floor(calibration.NAME_ONLY_MIN) == 0.0


def test_the_cap_does_not_squeeze_the_map() -> None:
    """A name link is stated at most 0.99 by clipping, not by pulling every knot in: the
    posterior 0.5 stays 0.5 under a map that is otherwise the identity."""
    m = Calibration.from_knots([0.0, 1.0], [0.0, 1.0])
    assert m.one(0.5) == 0.5 and m.one(1.0) == NAME_ONLY_MAX and m.one(0.0) > 0


def test_need_bits_follows_the_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """The blocking prunes against the posterior the map lifts to the floor: a map that
    states more than the posterior lets pairs with fewer bits through."""
    lifted = Calibration.from_knots([0.0, 0.1, 1.0], [0.0, 0.5, 0.999])
    monkeypatch.setattr(calibration, "current", lambda context=ROSTER, variant=False: lifted)
    lifted_need = need_bits(1e-4, 0.5)
    monkeypatch.setattr(
        calibration, "current", lambda context=ROSTER, variant=False: calibration.IDENTITY
    )
    plain_need = need_bits(1e-4, 0.5)
    assert plain_need == pytest.approx(math.log2(1 / 1) - math.log2(1e-4 / (1 - 1e-4)))
    assert lifted_need == pytest.approx(math.log2(0.1 / 0.9) - math.log2(1e-4 / (1 - 1e-4)))


def _pair(same_id: bool | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = {"name": "欧阳子萱", "birth_date": "1980-05-06", "gender": "女", "phone": "13800000001"}
    b = dict(a)
    if same_id is not None:
        a["id_number"] = idn("44030319800506002")
        b["id_number"] = a["id_number"] if same_id else idn("44030319800506004")
    left = pd.DataFrame([a])
    right = pd.DataFrame([b])
    for f in (left, right):
        f["id_valid"] = f["id_number"].notna() if "id_number" in f else False
    return prepare(left), prepare(right)


@pytest.mark.parametrize("small", [0, 32])
def test_a_name_only_link_is_never_stated_certain_nor_called_an_id_match(small: int) -> None:
    """Name, birth date, sex and phone all agree: the posterior rounds to 1, but without two
    valid ID numbers the link is stated below 1, and its evidence does not say 身份证号相同."""
    lp, rp = _pair(None)
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    got = score(lp, rp, pairs, prior=1e-4, frequencies=name_frequencies(lp, rp), small=small)
    conf = float(got["confidence"].iloc[0])
    assert 0.9 < conf <= NAME_ONLY_MAX
    step = identity_evidence("欧阳子萱", "k1", "欧阳子萱", "k2", conf, got["reasons"].iloc[0])
    assert "身份证号相同" not in step.text and "疑似同一人" in step.text


@pytest.mark.parametrize("same_id", [True, False])
def test_id_decided_links_are_not_mapped(same_id: bool) -> None:
    lp, rp = _pair(same_id)
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    got = score(lp, rp, pairs, prior=1e-4, frequencies=name_frequencies(lp, rp))
    assert float(got["confidence"].iloc[0]) == (1.0 if same_id else 0.0)


@pytest.mark.parametrize("small", [0, 32])
def test_the_reasons_add_up_to_the_stated_confidence(
    small: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a map that lifts the posterior, the map's part is a reason of its own and the
    reasons' bits sum to the log-odds of what is stated (both scoring paths)."""
    lifted = Calibration.from_knots([0.0, 0.02, 0.2, 1.0], [0.0, 0.4, 0.9, 0.999])
    lp, rp = _pair(None)
    lp = lp.assign(birth=None, phone=None)
    rp = rp.assign(birth=None, phone=None)
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    monkeypatch.setattr(calibration, "current", lambda context=ROSTER, variant=False: lifted)
    got = score(
        lp, rp, pairs, prior=1e-4, frequencies=name_frequencies(lp, rp), small=small,
        context=PANEL,
    )  # fmt: skip
    conf = float(got["confidence"].iloc[0])
    reasons = got["reasons"].iloc[0]
    assert reasons[-1][0] == CALIBRATION_LABEL and reasons[-1][1] > 0  # no rate: no words
    total = sum(v for _, v in reasons)
    assert total == pytest.approx(math.log2(conf / (1 - conf)), abs=0.05)


def test_the_namesake_rate_counts_pairs_of_people_and_leans_on_a_guess_when_few(
    write_csv: WriteCsv,
) -> None:
    """Four people carry valid ID numbers, two of them called 王芳: one pair of six shares a
    name. 张伟 met twice with one number is one person; 李强 without a number and 赵六 with
    an invalid one are not counted. So few people cannot show how crowded names are: the rate
    is the guess's, barely moved (smoothed as NAMESAKE_GUESS_PAIRS pairs weigh)."""
    write_csv(
        "staff.csv",
        ["人员编号", "姓名", "身份证号"],
        [
            ["S1", "王芳", idn("44030319800506002")],
            ["S2", "王芳", idn("44030319810506002")],
            ["S3", "张伟", idn("44030319820506002")],
            ["S4", "李强", ""],
            ["S5", "赵六", "440303198005060021"],
        ],
    )
    folder = write_csv(
        "relatives.csv",
        ["人员编号", "亲属姓名", "关系", "亲属身份证号"],
        [
            ["S1", "张伟", "哥哥", idn("44030319820506002")],
            ["S2", "陈静", "配偶", idn("44030319830506002")],
            ["S3", "李强", "弟弟", ""],
        ],
    )
    scr = Screening(load_dataset(folder))
    guess, weight = calibration.NAMESAKE_GUESS, calibration.NAMESAKE_GUESS_PAIRS
    assert scr.namesake_rate == pytest.approx((1 + guess * weight) / (6 + weight))
    assert scr.stated_in(PANEL) == calibration.qualified(PANEL, scr.namesake_rate)
    # the name two numbered people carry is shared; 张伟's one number twice is not
    assert scr.shared_names == frozenset({"王芳"})
    # many people: the data's own rate (3 of 4,950 pairs among 100 people)
    many = [f"甲{i}" for i in range(97)] + ["王芳", "王芳", "王芳"]
    assert calibration.namesake_rate(many) == pytest.approx((3 + guess * weight) / (4950 + weight))
    big = [f"乙{i}" for i in range(20_000)] + ["王芳"] * 2
    n = 20_002 * 20_001 / 2
    assert calibration.namesake_rate(big) == pytest.approx((1 + guess * weight) / (n + weight))
    assert calibration.namesake_rate(big) < guess / 10  # the data outweighs the guess


def test_a_screening_states_its_links_at_its_own_namesake_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo's avoidance links are stated through the panel's map at the demo's rate (the
    batch and the check alike: the check's equality with the batch is tested elsewhere)."""
    asked: list[str] = []
    seen = calibration.current

    def recording(context: str = ROSTER, *, variant: bool = False) -> Calibration:
        asked.append(context)
        return seen(context, variant=variant)

    monkeypatch.setattr(calibration, "current", recording)
    ctx = ScanContext(dataset=load_dataset(DEMO), profile=load_profile("longgang-2023"))
    hits = decision_kin(ctx, ("评审", "审定"), ("法定代表人", "股东"), 0.1)
    assert not hits.empty
    rate = ctx.screening.namesake_rate
    assert 0.0 < rate < calibration.NAMESAKE_GUESS / 3  # the demo draws each name once
    assert calibration.qualified(PANEL, rate) in asked
    assert PANEL not in asked  # never the unqualified, most crowded map


@pytest.mark.parametrize("small", [0, 32])
def test_the_maps_part_says_how_crowded_the_datas_names_are(
    small: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stated at a namesake rate, the map's reason says that rate in words (both scoring
    paths), and the plain evidence a reader gets says it too, without the arithmetic."""
    lifted = Calibration.from_knots([0.0, 0.02, 0.2, 1.0], [0.0, 0.4, 0.9, 0.999])
    lp, rp = _pair(None)
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    monkeypatch.setattr(calibration, "current", lambda context=ROSTER, variant=False: lifted)
    for rate, said in (
        (1.3e-6, "约百万分之1.3"), (3.3e-5, "约百万分之33"), (9.97e-6, "约百万分之10"),
        (2e-8, "不足百万分之0.1"),
    ):  # fmt: skip
        got = score(
            lp.assign(birth=None, phone=None), rp.assign(birth=None, phone=None), pairs,
            prior=1e-4, frequencies=name_frequencies(lp, rp), small=small,
            context=calibration.qualified(PANEL, rate),
        )  # fmt: skip
        label = got["reasons"].iloc[0][-1][0]
        assert label == f"{CALIBRATION_LABEL}，本数据中两人同名的机会{said}"
        conf = float(got["confidence"].iloc[0])
        step = identity_evidence("欧阳子萱", "k1", "欧阳子萱", "k2", conf, got["reasons"].iloc[0])
        # the reader gets the rate in words, not the calibration's arithmetic
        assert "校准" not in plain_step(step) and f"两人同名的机会{said}" in plain_step(step)


@pytest.mark.parametrize(
    ("raw", "calibrated", "why"),
    [
        ([0.5], [0.5], "at least two"),
        ([0.1, 0.5], [0.2], "at least two"),
        ([0.5, 0.1], [0.1, 0.5], "non-decreasing"),
        ([0.1, 0.5], [0.5, 0.1], "non-decreasing"),
        ([-0.1, 0.5], [0.1, 0.5], r"\[0, 1\]"),
        ([0.1, 1.5], [0.1, 0.5], r"\[0, 1\]"),
        ([0.1, 0.5], [-0.1, 0.5], r"\[0, 1\]"),
        ([0.1, 0.5], [0.1, 1.5], r"\[0, 1\]"),
        ([0.1, 0.5, 0.9], [0.1, 0.5, 1.2], r"\[0, 1\]"),
        ([0.1, 0.5, 1.2], [0.1, 0.5, 0.9], r"\[0, 1\]"),
    ],
)
def test_knots_that_are_no_map_are_refused(
    raw: list[float], calibrated: list[float], why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        Calibration.from_knots(raw, calibrated)


def test_a_flat_stretch_and_repeated_knots_are_a_map() -> None:
    flat = Calibration.from_knots([0.1, 0.1, 0.4, 0.8], [0.2, 0.3, 0.3, 0.9])
    assert flat.raw == (0.1, 0.1, 0.4, 0.8)
    # the floor on a flat stretch is where the stretch ends rising to it
    assert flat.raw_floor(0.3) == pytest.approx(0.1)
    assert flat.raw_floor(0.6) == pytest.approx(0.6)


def test_an_uncapped_map_states_what_it_maps_and_a_capped_one_never_certainty() -> None:
    """The bench's identity map keeps 0 and 1; a fitted map keeps a name link within
    [NAME_ONLY_MIN, NAME_ONLY_MAX], in the vectorised and the one-at-a-time reading, and its
    raw floor counts the caps (a floor below the least it states needs nothing; above the
    most it states, nothing reaches it)."""
    ident = calibration.IDENTITY
    assert ident(np.array([0.0, 1.0])).tolist() == [0.0, 1.0]
    assert ident.one(1.0) == 1.0 and ident.one(0.0) == 0.0
    assert ident.raw_floor(1.0) == pytest.approx(1.0) and ident.raw_floor(0.0) == 0.0
    fitted = Calibration.from_knots([0.0, 0.5, 1.0], [0.0, 0.6, 1.0])
    assert fitted(np.array([0.0, 1.0])).tolist() == [NAME_ONLY_MIN, NAME_ONLY_MAX]
    assert fitted.one(0.0) == NAME_ONLY_MIN and fitted.one(1.0) == NAME_ONLY_MAX
    assert fitted.raw_floor(NAME_ONLY_MIN / 2) == 0.0
    assert fitted.raw_floor(0.995) == 1.0  # above what a name link is ever stated
    assert fitted.raw_floor(NAME_ONLY_MAX) == pytest.approx(0.5 + 0.5 * (0.99 - 0.6) / 0.4)
    uncapped = Calibration((0.0, 0.5, 1.0), (0.0, 0.6, 1.0), capped=False)
    assert uncapped.raw_floor(0.995) == pytest.approx(0.5 + 0.5 * (0.995 - 0.6) / 0.4)
    assert uncapped(np.array([1.0])).tolist() == [1.0]


@pytest.mark.parametrize(
    ("rate", "words"),
    [
        (1.3e-6, "约百万分之1.3"),
        (9.94e-6, "约百万分之9.9"),
        (3.3e-5, "约百万分之33"),
        (1.7e-4, "约百万分之170"),
        (1.0e-7, "约百万分之0.1"),
        (4.0e-8, "不足百万分之0.1"),
    ],
)
def test_a_namesake_rate_in_words(rate: float, words: str) -> None:
    label, bits = calibration.reason(0.2, 0.8, f"{PANEL}{calibration.QUALIFIER}{rate:.6g}") or (
        "",
        0.0,
    )
    assert label.endswith(words)
    assert bits == round(math.log2(4) - math.log2(0.25), 2)


def test_the_maps_part_is_a_reason_only_where_it_moves_the_link() -> None:
    assert calibration.reason(0.5, 0.5) is None
    shown = calibration.SHOWN_BITS
    p = 0.5
    just = 1 / (1 + 2 ** -(shown * 1.01))
    assert calibration.reason(p, just) is not None
    assert calibration.reason(p, 1 / (1 + 2 ** -(shown * 0.99))) is None
    label, bits = calibration.reason(0.2, 0.8) or ("", 0.0)
    assert label == calibration.CALIBRATION_LABEL and bits == 4.0


def test_the_maps_file_round_trips_with_its_chinese_note(tmp_path: Path) -> None:
    one = Calibration.from_knots([0.1, 0.9], [0.2, 0.95])
    two = Calibration.from_knots([0.05, 0.5, 1.0], [0.1, 0.4, 0.9])
    single = calibration.Levels((0.0,), (one,))
    levels = calibration.Levels((1e-6, 1e-4), (two, one))
    path = tmp_path / "calibration.json"
    calibration.write(
        {"panel": levels, "kin": single, "roster": one}, fitted_on="种子1–80", path=path
    )
    text = path.read_text(encoding="utf-8")
    assert "种子1–80" in text  # written as it reads, not escaped
    body = json.loads(text)
    assert set(body["maps"]) == {"panel", "kin", "roster"}
    assert "levels" not in body["maps"]["kin"]  # one level: a plain map
    read = calibration.read(path)
    assert read["panel"].rates == (1e-6, 1e-4)
    assert read["panel"].maps == (two, one)
    assert read["kin"].maps == (one,) and read["roster"].maps == (one,)
    # a file that lacks a context is refused, naming the file and what it lacks
    body["maps"].pop("roster")
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match=r"calibration.json: no map for \['roster'\]"):
        calibration.read(path)
