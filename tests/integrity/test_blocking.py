"""The blocking's promises, held against all pairs: the roster-wide candidate pairs are exactly
the pairs sharing a key (each labelled with every key it shares), and pruning by viability
never drops a pair the scorer would state at the floor or above. Written from the mutants
mutmut left alive in identity/blocking.py (bench/README.md, "How strong the tests are")."""

from __future__ import annotations

import math
import random

import pandas as pd
import pytest
from stdnum.cn import ric

from integrity.identity.blocking import (
    BLOCK_BITS,
    UNCOUNTED_SHARE,
    candidate_pairs,
    context_pairs,
    deletions,
    headroom,
    need_bits,
    viable,
    viable_levels,
)
from integrity.identity.calibration import KIN, PANEL, ROSTER
from integrity.identity.mentions import name_frequencies, prepare
from integrity.identity.scoring import Weights, score, score_in_context

# a few surnames and given names, homophones (伟/炜, 丽/莉) and one-character slips among
# them, so that every kind of key is shared by chance as well as by design
SURNAMES = ["王", "李", "张", "陈", "欧阳", "吐尔逊·"]
GIVEN = ["伟", "炜", "丽", "莉", "建国", "建图", "子萱", "秀英", "喀迪尔", "芳"]
BIRTHS = ["1970-01-01", "1980-05-05", "1990-09-09", None, None]
PHONES = ["13800138000", "13900139000", None, None, None, None]


def idn(seed: int, birth: str | None, male: bool) -> str:
    day = (birth or "1975-03-03").replace("-", "")
    seq = (seed % 50) * 2 + (1 if male else 0)
    body = f"440307{day}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def people(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        birth = rng.choice(BIRTHS)
        male = rng.random() < 0.5
        numbered = rng.random() < 0.3
        rows.append(
            {
                "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", "", "明"]),
                "id_number": idn(rng.randrange(40), birth, male) if numbered else None,
                "id_valid": numbered,
                "birth_date": birth,
                "gender": rng.choice(["男" if male else "女", None]),
                "phone": rng.choice(PHONES),
            }
        )
    return prepare(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def sides() -> tuple[pd.DataFrame, pd.DataFrame]:
    return people(160, 1), people(170, 2)


def shared_keys(a: pd.Series, b: pd.Series) -> list[str]:
    """The blocking keys two prepared mentions share, by hand."""
    keys = []
    if a["id_valid"] and b["id_valid"] and a["id_number"] == b["id_number"]:
        keys.append("id")
    if a["name_norm"] == b["name_norm"]:
        keys.append("name")
    if a["pinyin"] == b["pinyin"]:
        keys.append("pinyin")
    if set(deletions(a["name_norm"])) & set(deletions(b["name_norm"])):
        keys.append("edit")
    if pd.notna(a["phone"]) and a["phone"] == b["phone"]:
        keys.append("phone")
    return keys


def test_every_pair_sharing_a_key_is_a_candidate_labelled_with_every_key(
    sides: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    left, right = sides
    expected = {}
    for li, a in left.iterrows():
        for ri, b in right.iterrows():
            keys = shared_keys(a, b)
            if keys:
                order = [k for k in BLOCK_BITS if k in keys]
                expected[(li, ri)] = ",".join(order)
    got = candidate_pairs(left, right)
    assert list(got.columns) == ["l", "r", "block"]
    found = {(int(r.l), int(r.r)): r.block for r in got.itertuples()}
    assert found == expected
    # every kind of key occurs, so none is checked vacuously
    assert {k for v in expected.values() for k in v.split(",")} == set(BLOCK_BITS)


def test_a_key_shared_by_more_rows_than_the_cap_blocks_nothing_at_the_fuzzy_levels() -> None:
    many = prepare(pd.DataFrame({"name": ["王建国"] * 4 + ["李秀英"], "id_valid": False}))
    few = prepare(pd.DataFrame({"name": ["王建国", "李秀英"], "id_valid": False}))
    got = candidate_pairs(many, few, max_block=3)
    blocks = {(int(r.l), int(r.r)): r.block for r in got.itertuples()}
    # 王建国's pinyin and deletion forms are shared by four rows on the left: not joined on
    # them; the exact name is never capped
    assert blocks[(0, 0)] == "name"
    assert blocks[(4, 1)] == "edit,name,pinyin"
    assert set(blocks) == {(0, 0), (1, 0), (2, 0), (3, 0), (4, 1)}
    # the same cap on the right side
    flipped = candidate_pairs(few, many, max_block=3)
    assert {(int(r.l), int(r.r)): r.block for r in flipped.itertuples()} == {
        (right, left): b for (left, right), b in blocks.items()
    }


@pytest.mark.parametrize(("prior", "floor"), [(1e-4, 0.5), (1e-3, 0.3), (1e-2, 0.5)])
def test_pruning_never_drops_a_pair_the_scorer_states_at_the_floor(
    sides: tuple[pd.DataFrame, pd.DataFrame], prior: float, floor: float
) -> None:
    left, right = sides
    freq = name_frequencies(left, right)
    everything = pd.DataFrame(
        [(li, ri) for li in left.index for ri in right.index], columns=["l", "r"]
    )
    scored = score(left, right, everything, prior=prior, frequencies=freq, context=ROSTER)
    unpruned = {(int(r.l), int(r.r)) for r in candidate_pairs(left, right).itertuples()}
    # the pairs sharing a key that the scorer states at the floor (this population's three
    # birth dates make a shared one common, and the weights take it for rare: pairs of
    # different names reach the floor on it, which no name key is meant to find)
    reaching = {
        (int(r.l), int(r.r)) for r in scored[scored["confidence"] >= floor].itertuples()
    } & unpruned
    pruned = candidate_pairs(left, right, prior=prior, floor=floor, frequencies=freq)
    kept = {(int(r.l), int(r.r)) for r in pruned.itertuples()}
    assert len(reaching) >= 20, "few pairs reach the floor: the test would say little"
    assert reaching <= kept
    # and the pruning prunes: fewer pairs than the unpruned blocking makes
    assert len(kept) < len(unpruned)


def in_contexts(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The mentions spread over six contexts (projects), each keyed as the screening keys
    them: by ID number where valid, else one key per row."""
    rng = random.Random(seed)
    out = frame.copy()
    out["ctx"] = [rng.randrange(6) for _ in range(len(out))]
    numbered = out["id_valid"].astype(bool)
    out["key"] = out["id_number"].where(numbered, "bare:" + str(seed) + ":" + out.index.astype(str))
    return out


def context_shared(lp: pd.DataFrame, rp: pd.DataFrame) -> set[tuple[int, int]]:
    """The pairs of one context sharing the person key, the name, its pinyin or a deletion
    form, by hand."""
    out = set()
    for li, a in lp.iterrows():
        for ri, b in rp[rp["ctx"] == a["ctx"]].iterrows():
            keys = shared_keys(a, b)
            if a["key"] == b["key"] or {"name", "pinyin", "edit"} & set(keys):
                out.add((li, ri))
    return out


@pytest.fixture(scope="module")
def contexts(sides: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    left, right = sides
    return in_contexts(left, 3), in_contexts(right, 4)


def test_pairs_met_in_one_context_are_those_sharing_a_key_there(
    contexts: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    lp, rp = contexts
    freq = name_frequencies(lp, rp)
    got = context_pairs(lp, rp, ["ctx"], freq, need=-math.inf)
    assert list(got.columns) == ["l", "r"]
    assert not got.duplicated().any()
    found = {(int(r.l), int(r.r)) for r in got.itertuples()}
    expected = context_shared(lp, rp)
    assert found == expected
    # each level brings pairs no other level does (a homophone, a slip, a shared number)
    by_hand = {(li, ri): shared_keys(lp.loc[li], rp.loc[ri]) for li, ri in expected}
    assert any(k == ["pinyin"] for k in by_hand.values())
    assert any(k == ["edit"] for k in by_hand.values())
    assert any(not {"name", "pinyin", "edit"} & set(keys) for keys in by_hand.values())


@pytest.mark.parametrize(("prior", "floor"), [(1e-3, 0.5), (0.02, 0.3), (0.05, 0.5)])
def test_pruning_in_a_context_never_drops_a_pair_the_scorer_states_at_the_floor(
    contexts: tuple[pd.DataFrame, pd.DataFrame], prior: float, floor: float
) -> None:
    lp, rp = contexts
    freq = name_frequencies(lp, rp)
    same_context = (
        lp[["ctx"]]
        .reset_index(names="l")
        .merge(rp[["ctx"]].reset_index(names="r"), on="ctx")[["l", "r"]]
    )
    scored = score(lp, rp, same_context, prior=prior, frequencies=freq, context=PANEL)
    reaching = {
        (int(r.l), int(r.r)) for r in scored[scored["confidence"] >= floor].itertuples()
    } & context_shared(lp, rp)
    need = need_bits(prior, floor, PANEL)
    kept = {(int(r.l), int(r.r)) for r in context_pairs(lp, rp, ["ctx"], freq, need).itertuples()}
    assert len(reaching) >= 10, "few pairs reach the floor: the test would say little"
    assert reaching <= kept
    assert len(kept) < len(context_shared(lp, rp))
    # viable() says the same of each row as viable_levels()
    for level in ("name", "pinyin", "edit"):
        assert viable(lp, freq, level, need, rp).equals(viable_levels(lp, freq, need, rp)[level])


# the name comparison's weight, as the Weights say it is, on both scoring paths
W = Weights()
NAME_CASES = [
    ("王伟", "王伟", "姓名相同（按姓名常见程度调整）", math.log2(W.name_exact_m / 0.01)),
    (
        "張偉",
        "张伟",
        "姓名繁简转换后相同",
        math.log2(W.name_exact_m / 0.01) - W.name_trad_penalty_bits,
    ),
    (
        "王伟",
        "王炜",
        "姓名同音（拼音相同）",
        math.log2(W.name_pinyin_m / 0.01) - W.name_pinyin_density_bits,
    ),
    (
        "张伟",
        "章伟",
        "姓名同音（拼音相同）",
        math.log2(W.name_pinyin_m / 0.01)
        - W.name_pinyin_density_bits
        - W.name_surname_homophone_bits,
    ),
    (
        "王建国",
        "王建图",
        "姓名相差一字",
        math.log2(W.name_edit_m / 0.01) - W.name_edit_density_bits,
    ),
    ("王伟", "李娜", "姓名不同", math.log2(W.name_different_m)),
]


@pytest.mark.parametrize("small", [0, 32], ids=["vectorised", "one by one"])
@pytest.mark.parametrize(("a", "b", "said", "bits"), NAME_CASES)
def test_the_name_comparison_weighs_what_the_weights_say(
    a: str, b: str, said: str, bits: float, small: int
) -> None:
    left = prepare(pd.DataFrame({"name": [a], "id_valid": [False]}))
    right = prepare(pd.DataFrame({"name": [b], "id_valid": [False]}))
    freq = pd.Series(0.01, index=pd.Index([left["name_norm"].iloc[0]]))
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    got = score(left, right, pairs, prior=0.5, frequencies=freq, small=small)
    reasons = dict(got.iloc[0]["reasons"])
    assert said in reasons
    assert reasons[said] == pytest.approx(bits, abs=0.006)


# ---- the viability arithmetic, exactly: references written with loops from the docstrings,
# the bits of each agreement from the Weights as the docstrings state them
SAME_SEX = math.log2(W.gender_same_m / 0.5)
SAME_BIRTH = math.log2(W.birth_same_m / W.birth_same_u)
SAME_PHONE = math.log2(W.phone_same_m / W.phone_same_u)
LEVELS = {
    "name": math.log2(W.name_exact_m),
    "pinyin": math.log2(W.name_pinyin_m) - W.name_pinyin_density_bits,
    "edit": math.log2(W.name_edit_m) - W.name_edit_density_bits,
}


def headroom_by_hand(m: pd.DataFrame, freq: pd.Series, other: pd.DataFrame) -> list[float]:
    """What each row could add apart from the name level: agreeing sex always; the same
    birth date where the row has one and ID numbers cannot decide it (the row has none and
    the other side has a birth date, or the other side has one without a number); the same
    phone where both sides have phones; and the name's rarity."""
    other_birth = bool(other["birth"].notna().any())
    other_birth_no_id = any(
        pd.notna(b) and not bool(v) for b, v in zip(other["birth"], other["id_valid"], strict=True)
    )
    other_phone = bool(other["phone"].notna().any())
    out = []
    for _, row in m.iterrows():
        bits = SAME_SEX
        if pd.notna(row["birth"]) and (
            (not bool(row["id_valid"]) and other_birth) or other_birth_no_id
        ):
            bits += SAME_BIRTH
        if pd.notna(row["phone"]) and other_phone:
            bits += SAME_PHONE
        bits += -math.log2(float(freq.get(row["name_norm"], UNCOUNTED_SHARE)))
        out.append(bits)
    return out


def test_headroom_counts_what_each_row_could_add(sides: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    left, right = sides
    # a few of the left side's names not counted: the most rare they could be
    uncounted = left["name_norm"].drop_duplicates().iloc[:3]
    freq = name_frequencies(left, right).drop(uncounted)
    assert left["name_norm"].isin(uncounted).any()
    numbered = right.assign(id_valid=True)  # every birth date decided by numbers
    silent = right.assign(birth=pd.NaT, phone=None)
    for other in (right, numbered, silent):
        assert headroom(left, freq, other) == pytest.approx(headroom_by_hand(left, freq, other))
    assert headroom(left, freq, None) == pytest.approx(headroom_by_hand(left, freq, left))


@pytest.mark.parametrize(("prior", "floor"), [(1e-4, 0.5), (1e-3, 0.3), (1e-2, 0.5)])
def test_the_roster_pruning_is_the_documented_rule(
    sides: tuple[pd.DataFrame, pd.DataFrame], prior: float, floor: float
) -> None:
    """At each name level a left row is joined on the key where its name alone (with agreeing
    sex) could reach the floor, on the key and the birth date where it would also need that,
    and not at all where it could not even so; ID numbers and phones always join."""
    left, right = sides
    freq = name_frequencies(left, right)
    need = need_bits(prior, floor)
    levels = LEVELS
    unseen = 1 / len(left)
    expected = set()
    for li, a in left.iterrows():
        rarity = -math.log2(float(freq.get(a["name_norm"], unseen)))
        for ri, b in right.iterrows():
            keys = shared_keys(a, b)
            if "id" in keys or "phone" in keys:
                expected.add((li, ri))
                continue
            for level in ("name", "pinyin", "edit"):
                if level not in keys:
                    continue
                bits = levels[level] + rarity + SAME_SEX
                same_day = pd.notna(a["birth"]) and a["birth"] == b["birth"]
                if bits >= need or (same_day and bits + SAME_BIRTH >= need):
                    expected.add((li, ri))
    got = candidate_pairs(left, right, prior=prior, floor=floor, frequencies=freq)
    assert {(int(r.l), int(r.r)) for r in got.itertuples()} == expected


@pytest.mark.parametrize(("prior", "floor"), [(1e-3, 0.5), (0.05, 0.5)])
def test_the_context_pruning_is_the_documented_rule(
    contexts: tuple[pd.DataFrame, pd.DataFrame], prior: float, floor: float
) -> None:
    """Pairs of one context sharing the person key always; at a name level, where both rows
    could reach the need there against the other side."""
    lp, rp = contexts
    freq = name_frequencies(lp, rp)
    need = need_bits(prior, floor, PANEL)
    levels = LEVELS
    lhead = dict(zip(lp.index, headroom_by_hand(lp, freq, rp), strict=True))
    rhead = dict(zip(rp.index, headroom_by_hand(rp, freq, lp), strict=True))
    expected = set()
    for li, a in lp.iterrows():
        for ri, b in rp[rp["ctx"] == a["ctx"]].iterrows():
            if a["key"] == b["key"]:
                expected.add((li, ri))
            for level in set(shared_keys(a, b)) & {"name", "pinyin", "edit"}:
                if lhead[li] + levels[level] >= need and rhead[ri] + levels[level] >= need:
                    expected.add((li, ri))
    got = context_pairs(lp, rp, ["ctx"], freq, need)
    assert {(int(r.l), int(r.r)) for r in got.itertuples()} == expected


def test_a_pair_in_context_is_stated_by_that_contexts_map_and_one_number_decides(
    contexts: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    lp, rp = contexts
    lp = lp.assign(key=lp["key"].where(lp["key"].str.startswith("bare:"), "id:" + lp["key"]))
    rp = rp.assign(key=rp["key"].where(rp["key"].str.startswith("bare:"), "id:" + rp["key"]))
    freq = name_frequencies(lp, rp)
    pairs = context_pairs(lp, rp, ["ctx"], freq, need=-math.inf)
    same_number = lp["key"].to_numpy()[pairs["l"]] == rp["key"].to_numpy()[pairs["r"]]
    assert same_number.any()
    stated = {}
    for context in (PANEL, KIN, ROSTER):
        got = score_in_context(
            lp, rp, pairs, prior=0.05, frequencies=freq, context=context, reasons_from=0.5
        )
        plain = score(lp, rp, pairs, prior=0.05, frequencies=freq, context=context)
        numbered = got[same_number]
        assert (numbered["confidence"] == 1.0).all()
        assert all(r == [("身份证号相同", math.inf)] for r in numbered["reasons"])
        rest = got[~same_number]
        assert rest["confidence"].tolist() == plain[~same_number]["confidence"].tolist()
        # reasons are kept from reasons_from up only (and where numbers decided the pair)
        weighed = [
            (r, c)
            for r, c in zip(rest["reasons"], rest["confidence"], strict=True)
            if not (r and math.isinf(r[0][1]))
        ]
        assert all((r is None) == (c < 0.5) for r, c in weighed)
        assert any(r is None for r, _ in weighed) and any(r for r, _ in weighed)
        stated[context] = rest["confidence"].tolist()
    assert len({tuple(v) for v in stated.values()}) == 3  # each context's map its own
