"""Identity resolution decisions, table-driven, inside a background population so that the
term-frequency adjustment sees realistic name counts."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric

from integrity.identity.blocking import candidate_pairs, deletion_codes, deletions
from integrity.identity.calibration import PANEL, ROSTER
from integrity.identity.ids import ric_gender
from integrity.identity.keys import _name_to_uscc, org_keys
from integrity.identity.mentions import name_frequencies, prepare, sex_from_ids
from integrity.identity.names import TRANSLITERATED_NAME_SHARE, pinyin_key, split_surname
from integrity.identity.priors import CONTEXT_PRIOR
from integrity.identity.scoring import (
    BIRTH_RANGE_LABEL,
    SCORED_COLUMNS,
    rows_at,
    score,
    score_at_in_context,
    score_in_context,
    score_records_in_context,
)
from integrity.load.dataset import load_dataset
from integrity.screening.kin import Screening
from integrity.screening.tables import implied_births
from tests.conftest import DEMO

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩芳娜敏静丽艳娟霞秀英慧莉燕玲红梅琳婷雪颖洁"


def idn(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def background(n: int, seed: int) -> list[dict[str, object]]:
    """Random people, plus the two very common names 王伟 and 刘洋 twenty times each."""
    rng = random.Random(seed)
    names = [rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) for _ in range(n)]
    names += ["王伟"] * 20 + ["刘洋"] * 20
    return [
        {
            "name": name,
            "id_number": None,
            "id_valid": False,
            "birth_date": None,
            "gender": None,
            "phone": None,
        }
        for name in names
    ]


def one_pair(a: dict[str, object], b: dict[str, object], prior: float) -> pd.Series:
    base = {"id_number": None, "id_valid": False, "birth_date": None, "gender": None, "phone": None}
    left = prepare(pd.DataFrame([{**base, **a}, *background(3000, 1)]))
    right = prepare(pd.DataFrame([{**base, **b}, *background(3000, 2)]))
    pairs = candidate_pairs(left, right)
    # a project's panel states its links with the panel's calibration map
    scored = score(left, right, pairs, prior=prior, context=PANEL if prior == PROJECT else ROSTER)
    hit = scored[(scored["l"] == 0) & (scored["r"] == 0)]
    assert len(hit) == 1, "the pair is not even a candidate"
    return hit.iloc[0]


CITY = 1 / 3000  # population-wide: one true match among the other side's mentions
PROJECT = CONTEXT_PRIOR  # the two meet in one project's decision


def test_same_name_different_valid_ids_are_different_people() -> None:
    a = {"name": "张伟", "id_number": idn("44030719800101001"), "id_valid": True}
    b = {"name": "张伟", "id_number": idn("44030719800101002"), "id_valid": True}
    got = one_pair(a, b, PROJECT)
    assert got["confidence"] == 0.0 and "身份证号不同" in got["reasons"][0][0]


def test_same_id_is_the_same_person_whatever_the_names() -> None:
    number = idn("44030719800101001")
    got = one_pair(
        {"name": "李志刚", "id_number": number, "id_valid": True},
        {"name": "李志钢", "id_number": number, "id_valid": True},
        CITY,
    )
    assert got["confidence"] == 1.0


def test_traditional_and_simplified_are_the_same_name_with_the_evidence_said() -> None:
    trad = one_pair({"name": "張偉"}, {"name": "张伟"}, PROJECT)
    plain = one_pair({"name": "张伟"}, {"name": "张伟"}, PROJECT)
    assert any("繁简" in r for r, _ in trad["reasons"])
    assert plain["log_odds"] - 1.01 <= trad["log_odds"] < plain["log_odds"]
    rare = one_pair({"name": "陳志強"}, {"name": "陈志强"}, PROJECT)
    assert any("繁简" in r for r, _ in rare["reasons"]) and rare["confidence"] >= 0.8


def test_in_one_project_a_rare_name_decides_and_the_commonest_names_stay_leads() -> None:
    assert one_pair({"name": "欧阳子萱"}, {"name": "欧阳子萱"}, PROJECT)["confidence"] >= 0.95
    assert one_pair({"name": "张军海"}, {"name": "张军海"}, PROJECT)["confidence"] >= 0.85
    for common in ("张伟", "王伟", "刘洋"):
        assert one_pair({"name": common}, {"name": common}, PROJECT)["confidence"] < 0.5
    # a different surname is never a typo of the same name
    assert one_pair({"name": "朱瑶红"}, {"name": "金瑶红"}, PROJECT)["confidence"] < 0.01


def test_homophone_without_ids_is_a_weak_candidate_unless_the_birth_date_agrees() -> None:
    weak = one_pair({"name": "张伟"}, {"name": "张炜"}, CITY)
    assert weak["confidence"] < 0.5 and any("同音" in r for r, _ in weak["reasons"])
    strong = one_pair(
        {"name": "张伟", "birth_date": "1980-01-01"},
        {"name": "张炜", "birth_date": "1980-01-01"},
        CITY,
    )
    assert strong["confidence"] >= 0.5


def test_a_rare_name_weighs_more_than_a_common_one() -> None:
    rare = one_pair({"name": "欧阳子萱"}, {"name": "欧阳子萱"}, CITY)
    common_pop = one_pair({"name": "王伟"}, {"name": "王伟"}, CITY)
    assert rare["log_odds"] > common_pop["log_odds"]


def test_birth_date_from_the_id_number_on_one_side() -> None:
    got = one_pair(
        {"name": "刘洋", "id_number": idn("44030719850303003"), "id_valid": True},
        {"name": "刘洋", "birth_date": "1970-01-01"},
        PROJECT,
    )
    assert any("出生日期不同" in r for r, _ in got["reasons"])
    assert got["confidence"] < 0.5


@pytest.mark.parametrize(
    ("a", "b", "block"),
    [("王建国", "王建图", "edit"), ("张伟", "张炜", "pinyin"), ("欧阳子萱", "欧阳子萱", "name")],
)
def test_blocking_finds_the_pair_without_all_pairs(a: str, b: str, block: str) -> None:
    left = prepare(pd.DataFrame([{"name": a, "id_number": None, "id_valid": False}]))
    right = prepare(
        pd.DataFrame(
            [
                {"name": b, "id_number": None, "id_valid": False},
                {"name": "无关人", "id_number": None, "id_valid": False},
            ]
        )
    )
    pairs = candidate_pairs(left, right)
    assert list(pairs["r"]) == [0] and block in pairs.iloc[0]["block"]


def _org_keys_of(names: list[str], usccs: list[str | None]) -> list[str]:
    """The organisation keys the screening gives these suppliers (keys.org_keys, then a
    bare name taken to the one valid USCC its name carries elsewhere)."""
    frame = pd.DataFrame(
        {"supplier_name": names, "uscc": usccs, "uscc_valid": [u is not None for u in usccs]}
    )
    frame["org_key"] = org_keys(frame)
    _name_to_uscc({"suppliers": frame})
    return list(frame["org_key"])


def test_company_variants_with_one_uscc_are_one_company() -> None:
    keys = _org_keys_of(
        [
            "深圳市龙岗区阳光社会工作服务中心",
            "阳光社工服务中心（深圳）",
            "深圳市阳光社会工作服务中心",
        ],
        ["52440307AAAAAAAA84", None, "52440307AAAAAAAA84"],
    )
    assert keys == ["uscc:52440307AAAAAAAA84"] * 3


def test_one_name_two_usccs_are_two_companies_and_a_bare_name_no_guess() -> None:
    keys = _org_keys_of(
        ["深圳市龙岗区阳光社会工作服务中心", "深圳市阳光社会工作服务中心", "阳光社工服务中心"],
        ["52440307AAAAAAAA84", "52440307AAAAAAAA97", None],
    )
    assert keys[0] != keys[1]
    assert keys[2] == "org:阳光社工服务中心"  # which of the two is unknown


def test_few_pairs_score_alike_one_by_one_and_vectorised() -> None:
    """The pre-award check scores a handful of pairs in plain Python: the same confidences,
    log-odds and reasons as the vectorised path, over the demo's people and role holders
    (exact names, other scripts, homophones, one-character slips, IDs, births, phones)."""
    scr = Screening(load_dataset(DEMO))
    people = scr.people.reset_index()
    # half the holders with their ID numbers hidden (birth date and sex, read from them,
    # kept): the features then decide, not the numbers; and a few phones shared
    holders = scr.holders.copy()
    hide = holders.index % 2 == 0
    holders.loc[hide, "id_valid"] = False
    phones = people["phone"].dropna()
    holders.loc[holders.index[:: max(1, len(holders) // len(phones))][: len(phones)], "phone"] = (
        phones.to_numpy()[: len(holders.index[:: max(1, len(holders) // len(phones))])]
    )
    freq = scr.name_commonness
    rng = random.Random(5)
    by_surname: dict[str, list[int]] = {}
    for j, name in enumerate(holders["name_norm"]):
        by_surname.setdefault(str(name)[:1], []).append(j)
    pairs = []
    for i in rng.sample(range(len(people)), 400):
        same = by_surname.get(str(people.loc[i, "name_norm"])[:1])
        pairs.append(
            (i, rng.choice(same) if same and rng.random() < 0.7 else rng.randrange(len(holders)))
        )
    # the same person on both sides, too: the planted links
    keys = {k: j for j, k in enumerate(holders["key"])}
    pairs += [(i, keys[k]) for i, k in enumerate(people["key"]) if k in keys][:100]
    frame = pd.DataFrame(pairs, columns=["l", "r"])
    for prior in (2e-4, 1e-6):
        one = score(people, holders, frame, prior=prior, frequencies=freq, small=10**9)
        many = score(people, holders, frame, prior=prior, frequencies=freq, small=0)
        assert one["confidence"].tolist() == many["confidence"].tolist()
        assert one["log_odds"].tolist() == many["log_odds"].tolist()
        assert one["reasons"].tolist() == many["reasons"].tolist()
    c = many["confidence"]
    assert (
        (c == 1.0).sum() >= 2 and (c == 0.0).sum() >= 50 and ((c > 0.01) & (c < 0.9995)).sum() >= 2
    )
    assert many["reasons"].map(len).max() >= 4  # names, birth, sex ... all in the comparison
    # relatives without a birth date of their own, whose kin rows imply one that another
    # side's birth date contradicts, on both paths alike
    ranged = many["reasons"].map(lambda r: any(x[0] == BIRTH_RANGE_LABEL for x in r or []))
    assert ranged.sum() >= 10
    # the check's records path (rows taken at positions, the same ``id:`` key deciding) gives
    # score_in_context's confidences and reasons, over the frame's floor
    in_context = score_in_context(people, holders, frame, prior=2e-4, frequencies=freq)
    confidence, reasons = score_records_in_context(
        rows_at(people, frame["l"].to_numpy(), SCORED_COLUMNS),
        rows_at(holders, frame["r"].to_numpy(), SCORED_COLUMNS),
        list(
            zip(
                people["key"].to_numpy()[frame["l"]],
                holders["key"].to_numpy()[frame["r"]],
                strict=True,
            )
        ),
        prior=2e-4,
        frequencies=freq,
        floor=1 / (len(people) + len(holders)),
    )
    assert confidence == in_context["confidence"].tolist()
    assert reasons == in_context["reasons"].tolist()
    # the same number decides also where the holder's is hidden from the features (its key)
    hidden = ~holders["id_valid"].to_numpy()[frame["r"]]
    assert (
        sum(r == [("身份证号相同", math.inf)] and h for r, h in zip(reasons, hidden, strict=True))
        >= 2
    )
    # a few pairs read in place (org_relations' bare names in a check) give what the rows,
    # copied out and prepared, give through score_in_context: with half the names unseen,
    # so that the floor (the share of a name not counted) decides some
    half = freq.iloc[::2]
    for start in range(0, len(frame), 97):
        chunk = frame.iloc[start : start + 25]
        at_l, at_r = chunk["l"].to_numpy(), chunk["r"].to_numpy()
        keys = list(
            zip(people["key"].to_numpy()[at_l], holders["key"].to_numpy()[at_r], strict=True)
        )
        read = score_at_in_context(people, holders, at_l, at_r, keys, prior=2e-4, frequencies=half)
        assert read is not None
        copied = score_in_context(
            prepare(people.iloc[at_l].reset_index(drop=True), with_pinyin=False),
            prepare(holders.iloc[at_r].reset_index(drop=True), with_pinyin=False),
            pd.DataFrame({"l": np.arange(len(chunk)), "r": np.arange(len(chunk))}),
            prior=2e-4,
            frequencies=half,
        )
        for column in ("l", "r", "confidence", "log_odds", "reasons"):
            assert read[column].tolist() == copied[column].tolist(), column
    # a frame that was never prepared is left to score_in_context
    bare = holders.drop(columns=["name_nfkc"])
    assert score_at_in_context(people, bare, at_l, at_r, keys, prior=2e-4, frequencies=half) is None


def test_deletion_codes_group_exactly_as_the_deletion_strings() -> None:
    # the batch blocking codes one-deletion forms on code points; two rows share a code if and
    # only if they share a deletions() string, across both sides
    rng = random.Random(5)
    pool = [*"张王李欧阳子萱伟玮芳·买提阿依古丽", "𠀋"]
    names = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 8))) for _ in range(400)]
    names += ["阿依古丽·买买提", "阿依古丽·买卖提", "张伟", "张玮", "欧阳子萱", "欧阳紫萱"]
    left = pd.Series([*names[:200], None], index=[f"l{i}" for i in range(201)])
    right = pd.Series([*names[200:], None], index=range(1000, 1000 + len(names) - 199))
    lcode, rcode = deletion_codes(left, right)
    by_code = {(a, b) for a, x in lcode.items() for b, y in rcode.items() if x == y}
    by_string = {
        (a, b)
        for a, x in left.dropna().items()
        for b, y in right.dropna().items()
        if set(deletions(x)) & set(deletions(y))
    }
    assert by_code == by_string and by_code
    assert lcode.groupby(level=0).size().to_dict() == {
        a: len(deletions(x)) for a, x in left.dropna().items() if deletions(x)
    }


def test_sex_from_id_numbers_vectorised_as_one_by_one() -> None:
    ids = pd.Series(
        ["440307199001011234", "44030719900101123X", "440307199001011245", "4403071990010112",
         "4403071990010112X4", None, "", "44030719900101１２３４"],
        index=range(10, 18),
    )  # fmt: skip
    expected = [ric_gender(v) if isinstance(v, str) else None for v in ids]
    got = sex_from_ids(ids).tolist()
    assert got[5] != got[5]  # no number: NaN, as the per-value map gave it
    assert got[:5] + got[6:] == expected[:5] + expected[6:]
    assert sex_from_ids(ids).index.tolist() == list(range(10, 18))


def test_kin_in_roles_prunes_without_losing_a_pair() -> None:
    # kin_in_roles counts the prior and picks the relatives who can meet a holder without
    # building every (decision, relative) row: the same prior, and the same pairs at the
    # floor, as building them all and matching
    from integrity.identity.priors import estimated_prior  # noqa: PLC0415
    from integrity.policy import load_profile  # noqa: PLC0415
    from integrity.rules import ScanContext  # noqa: PLC0415
    from integrity.screening.decisions import decisions  # noqa: PLC0415
    from integrity.screening.kin import kin_of  # noqa: PLC0415

    ctx = ScanContext(dataset=load_dataset(DEMO), profile=load_profile("longgang-2023"))
    scr = ctx.screening
    settings = ctx.profile.settings("avoidance")
    dec = decisions(ctx, settings.decision_roles)
    roles = (*settings.head_roles, *settings.other_roles)
    right = (
        dec[["project_id", "org_key"]]
        .drop_duplicates()
        .merge(scr.holders[scr.holders["role"].isin(roles)], on="org_key")
    )
    full = kin_of(scr, dec)
    prior = scr._kin_prior(dec, right, ["project_id"], CONTEXT_PRIOR)
    assert prior == estimated_prior(full, right, ["project_id"], CONTEXT_PRIOR)
    floor = settings.min_confidence
    everything = scr.match_in_context(full, right, on=["project_id"], prior=prior, floor=floor)
    everything = everything[everything["confidence"] >= floor]
    expected = {
        (full["project_id"].iloc[i], full["relative"].iloc[i], r, c)
        for i, r, c in everything[["l", "r", "confidence"]].itertuples(index=False)
    }
    hits = scr.kin_in_roles(
        dec, dec[["project_id", "org_key"]], on=["project_id"], roles=roles, floor=floor
    )
    got = {
        (pid, rel, r, c)
        for pid, rel, r, c in zip(
            hits["project_id"], hits["relative"], hits["h_h_row"], hits["match_conf"], strict=True
        )
    }
    rows = right.reset_index(drop=True)["row"]
    assert got == {(p, rel, rows.iloc[r], c) for p, rel, r, c in expected}
    assert len(expected) >= 5


def test_kin_rows_imply_the_birth_years_of_relatives_without_a_birth_date() -> None:
    birth = pd.Series(
        pd.to_datetime(["1973-12-26", None, None, "1969-12-04", None, None, None]),
        index=["father", "son", "uncle", "mother", "twin", "cousin", "grandmother"],
    )
    links = pd.DataFrame(
        {
            "src": ["father", "father", "mother", "son", "father", "father"],
            "dst": ["son", "uncle", "son", "twin", "cousin", "grandmother"],
            # 儿子; 弟弟; the mother's 儿子 (narrows the range); the son's brother (both
            # unknown: nothing); 堂兄弟 and 祖母, paths of several steps (each step's years
            # added: the grandmother is at least 26 years older, never younger)
            "code": ["s", "lb", "s", "xb", "f,ob,s", "f,m"],
            "table": ["relatives", "family_links", "family_links", "family_links", "x", "x"],
            "row": [1, 2, 3, 4, 5, 6],
        }
    )
    lo, hi = implied_births(birth, links)
    # the son: 13-65 years after his father (1986-2038) and after his mother (1982-2034)
    assert (lo["son"], hi["son"]) == (1986.0, 2034.0)
    # the younger brother: up to 30 years after
    assert (lo["uncle"], hi["uncle"]) == (1973.0, 2003.0)
    # the father's older brother's son: -65..-13, -30..0, 13..65 years added up
    assert (lo["cousin"], hi["cousin"]) == (1973.0 - 82, 1973.0 + 52)
    assert (lo["grandmother"], hi["grandmother"]) == (1973.0 - 130, 1973.0 - 26)
    # own birth date known, or nothing to go by: no range
    assert lo[["father", "mother", "twin"]].isna().all()


def test_a_declared_son_is_not_the_official_of_the_same_name_born_before_his_father() -> None:
    # the official 李强 (born 1973, an ID number that fails its check digit) and the son 李强
    # another official (李超, born December 1973) declares without a number: the common name
    # alone made them one person (0.66) and the father's wife the official's "mother"
    people = prepare(
        pd.DataFrame(
            {
                "key": ["staff:李强", "decl:李强"],
                "name": ["李强", "李强"],
                "id_number": [None, None],
                "id_valid": [False, False],
                "birth_date": ["1973-04-09", None],
                "gender": ["男", None],
                "phone": [None, None],
            }
        ),
        with_pinyin=False,
    )
    people["born_lo"], people["born_hi"] = [np.nan, 1986.0], [np.nan, 2038.0]
    pairs = pd.DataFrame({"l": [0], "r": [1]})
    freq = pd.Series({"李强": 1.5e-4})
    for small in (0, 10):
        scored = score(people, people, pairs, prior=6.2e-4, frequencies=freq, small=small)
        labels = [label for label, _ in scored["reasons"][0]]
        assert BIRTH_RANGE_LABEL in labels
        assert scored["confidence"][0] < 0.5
    bare = people.drop(columns=["born_lo", "born_hi"])
    without = score(bare, bare, pairs, prior=6.2e-4, frequencies=freq)
    assert without["confidence"][0] > 0.5


def test_a_transliterated_name_has_no_surname_and_is_not_rare() -> None:
    """吐尔逊·喀迪尔 is a person's name and the father's, not the rare surname 吐 times a
    unique given name: a name-only match on it weighs like one on 张伟, never like a rare name."""
    assert split_surname("吐尔逊·喀迪尔") == ("", "吐尔逊·喀迪尔")
    assert pinyin_key("吐尔逊·喀迪尔") == "tu er xun · ka di er"
    crowd = [f"张{chr(0x4E00 + i % 2000)}{chr(0x4E00 + i // 2000)}" for i in range(10_000)]
    names = pd.DataFrame({"name_norm": [*crowd, "吐尔逊·喀迪尔", "欧阳子萱"]})
    u = name_frequencies(names)
    assert u["吐尔逊·喀迪尔"] == TRANSLITERATED_NAME_SHARE  # once in 10,002: the floor
    assert u["欧阳子萱"] < TRANSLITERATED_NAME_SHARE / 100  # a rare Han name stays rare
