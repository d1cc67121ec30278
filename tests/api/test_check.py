"""The pre-award check on the screened demo district, over HTTP: a verdict and a sentence,
what each rule checked, and the findings as the batch writes them (the batch itself is held
to the check project by project in test_check_equals_batch.py)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

from integrity.load.dataset import load_dataset
from tests.api.conftest import Api
from tests.conftest import DEMO


def _finding(api: Api, rule: str, **match: Any) -> dict[str, Any]:
    items = api.get("/findings", params={"rule": rule, "limit": 500}).json()["items"]
    for item in items:
        f = item["finding"]
        if all(v in f[k] for k, v in match.items()):
            return dict(f)
    raise AssertionError(f"no {rule} finding with {match}")


def _check(api: Api, body: dict[str, Any], role: str = "reviewer") -> dict[str, Any]:
    r = api.post("/check", role=role, json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _of(answer: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [a for a in answer["assessments"] if a["rule"] == rule]


def _rule(answer: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(r for r in answer["rules"] if r["rule"] == rule)


def test_kin_conflict_agrees_with_the_batch(screened: Api) -> None:
    batch = _finding(screened, "avoidance", staff_ids="BT0234")
    answer = _check(
        screened,
        {
            "supplier": {"uscc": batch["suppliers"][0]},
            "project": {"category": "货物类", "amount_wan": 20, "date": "2024-06-01"},
            "panel": [{"staff_id": "BT0234"}, {"staff_id": "BT0001"}],
        },
    )
    assert answer["verdict"] == "conflict"
    assert answer["summary"].startswith("存在利益冲突：张波龙 —堂弟→ 张军海")
    assert "张波龙（BT0234）须回避" in answer["summary"]
    [hit] = _of(answer, "avoidance")
    assert hit["staff_ids"] == ["BT0234"] and hit["details"]["category"] == "三代以内旁系血亲"
    assert hit["details"]["path"] == batch["details"]["path"]
    assert hit["confidence"] == batch["confidence"]  # the batch's prior, the batch's score
    assert hit["details"]["identity_confidence"] == batch["details"]["identity_confidence"]
    assert hit["citation"] == batch["citation"] and "第二十三条第（五）项" in hit["citation"]
    kinds = [e["kind"] for e in hit["evidence"]]
    assert kinds[:2] == ["project", "participation"] and kinds[-1] == "policy"
    kin = next(e for e in hit["evidence"] if e["kind"] == "kin")
    assert kin["source"]["file"] == "family_links.csv"
    assert hit["evidence"][0]["source"]["file"] == "核查请求"  # the award is the request's
    assert _rule(answer, "avoidance")["checked"]


def test_self_dealing_and_a_clean_panel(screened: Api) -> None:
    batch = _finding(screened, "avoidance", staff_ids="HG0327")
    body = {"supplier": {"uscc": batch["suppliers"][0]}, "panel": [{"staff_id": "HG0327"}]}
    [hit] = _of(_check(screened, body), "avoidance")
    assert hit["details"]["self_dealing"] and hit["severity"] == "high"
    assert hit["confidence"] == 1.0
    clean = _check(screened, body | {"panel": [{"staff_id": "LC0001"}, {"staff_id": "LC0002"}]})
    assert _of(clean, "avoidance") == [] and clean["verdict"] in ("clear", "caution")


def test_a_recusal_in_the_request_is_not_judged(screened: Api) -> None:
    batch = _finding(screened, "avoidance", staff_ids="HG0327")
    body = {
        "supplier": {"uscc": batch["suppliers"][0]},
        "panel": [{"staff_id": "HG0327", "step": "评审", "recused": True}],
    }
    answer = _check(screened, body)
    assert _of(answer, "avoidance") == []
    assert not _rule(answer, "avoidance")["checked"]  # nobody left on the panel to judge


def test_unknown_supplier_with_the_legal_rep_written_on_the_bid(screened: Api) -> None:
    batch = _finding(screened, "avoidance", staff_ids="LC0004")  # 黎志斌 —妻子→ 张敏
    wife = next(
        e["data"]["from"]
        for e in batch["evidence"]
        if e["kind"] == "identity" and str(e["data"]["from"]).startswith("id:")
    )
    answer = _check(
        screened,
        {
            "supplier": {
                "name": "深圳市新开张物业管理有限公司",
                "people": [{"name": "张敏", "id_number": wife[3:], "role": "法定代表人"}],
            },
            "panel": [{"name": "黎志斌"}],
        },
        role="admin",
    )
    assert answer["supplier"]["found_by"] == "未找到" and not answer["supplier"]["found"]
    [hit] = _of(answer, "avoidance")
    assert hit["details"]["category"] == "配偶" and hit["confidence"] == 1.0
    assert any(e["text"].startswith("本次核查请求：张敏") for e in hit["evidence"])
    assert answer["verdict"] == "conflict"  # a conflict found outweighs what is unknown
    # the same name without the number: a lead at most, never an assertion on a name alone
    bare = _check(
        screened,
        {
            "supplier": {"name": "深圳市新开张物业管理有限公司", "people": [{"name": "张敏"}]},
            "panel": [{"staff_id": "LC0004"}],
        },
    )
    assert all(h["confidence"] < 0.5 for h in _of(bare, "avoidance"))
    assert bare["verdict"] == "unknown" and "在筛查数据中未找到" in bare["summary"]


def test_unknown_supplier_and_panel_members_come_with_candidates(screened: Api) -> None:
    answer = _check(
        screened,
        {
            "supplier": {"name": "深圳市润泽睿智体育用品公司"},  # 有限 missing
            "panel": [{"name": "黎志斌"}, {"name": "查无此人"}, {"name": "张波"}],
        },
    )
    assert answer["verdict"] == "unknown"
    supplier = answer["supplier"]
    assert not supplier["found"] and supplier["candidates"]
    assert supplier["candidates"][0]["name"] == "深圳市润泽睿智体育用品有限公司"
    assert supplier["candidates"][0]["similarity"] >= 90
    member, nobody, fuzzy = answer["panel"]
    assert member["found"] and member["staff_id"] == "LC0004"
    assert not nobody["found"] and nobody["note"] == "人员表中无此姓名"
    assert not fuzzy["found"] and any(c["name"] == "张波龙" for c in fuzzy["candidates"])
    assert "无法判断" in answer["summary"] and "查无此人" in answer["summary"]


def test_a_name_borne_by_two_officials_is_unknown_until_picked(screened: Api) -> None:
    staff = load_dataset(DEMO).table("staff")
    twice = staff[staff.duplicated("name", keep=False)].sort_values("staff_id")
    name = str(twice["name"].iloc[0])
    answer = _check(screened, {"supplier": {"name": "不存在的公司"}, "panel": [{"name": name}]})
    [member] = answer["panel"]
    assert not member["found"] and "同名" in member["note"]
    ids = {c["id"] for c in member["candidates"]}
    assert ids == set(twice.loc[twice["name"] == name, "staff_id"])
    assert answer["verdict"] == "unknown"
    picked = _check(
        screened,
        {"supplier": {"name": "不存在的公司"}, "panel": [{"staff_id": sorted(ids)[0]}]},
    )
    assert picked["panel"][0]["found"]


def test_catalogue_on_the_date(screened: Api) -> None:
    catalogue = load_dataset(DEMO).table("catalogue")
    entry = catalogue[catalogue["uscc_valid"].fillna(False).astype(bool)].iloc[0]
    start = pd.Timestamp(entry["valid_from"]) if pd.notna(entry["valid_from"]) else None
    day = (start + pd.Timedelta(days=1)) if start is not None else pd.Timestamp("2024-06-01")
    body = {
        "supplier": {"uscc": entry["uscc"]},
        "project": {"category": "服务类", "amount_wan": 10, "date": str(day.date())},
    }
    inside = _check(screened, body)
    assert _rule(inside, "off_catalogue")["checked"] and _of(inside, "off_catalogue") == []
    if start is not None:
        before = dict(
            body, project=dict(body["project"], date=str((start - pd.Timedelta(days=1)).date()))
        )
        [late] = _of(_check(screened, before), "off_catalogue")
        assert late["details"]["reason"] == "not_yet"
    works = _check(screened, dict(body, project=dict(body["project"], category="工程")))
    assert _rule(works, "off_catalogue")["reason"] == "工程类项目不要求入库"
    undated = _check(screened, dict(body, project={"category": "服务类", "amount_wan": 10}))
    assert not _rule(undated, "off_catalogue")["checked"]
    assert "签约日期" in _rule(undated, "off_catalogue")["reason"]
    off = _finding(screened, "off_catalogue", project_ids="LG2024-BT-0517")  # a near name
    near = _check(
        screened,
        {
            "supplier": {"uscc": off["suppliers"][0]},
            "project": {
                "category": "服务类",
                "amount_wan": 20,
                "date": off["details"]["award_date"],
            },
        },
    )
    [found] = _of(near, "off_catalogue")
    assert found["details"]["reason"] == "near_name_other_uscc"
    assert found["details"]["near_catalogue_suppliers"]
    assert near["verdict"] == "caution"


def test_split_risk_and_over_cap(screened: Api) -> None:
    split = _finding(screened, "split_bid", project_ids="LG2024-LC-0521")
    dates = sorted(
        m.group(1)
        for e in split["evidence"]
        if e["kind"] == "project" and (m := re.search(r"签约日期 (\S+)", e["text"]))
    )
    answer = _check(
        screened,
        {
            "supplier": {"uscc": split["suppliers"][0]},
            "project": {
                "category": "工程类",
                "amount_wan": 95,
                "community": split["community"],
                "date": dates[-1],
                "title": split["details"]["subject"] + "四期",
            },
        },
    )
    [risk] = _of(answer, "split_bid")
    assert risk["severity"] == "high"
    assert set(risk["project_ids"]) == {*split["project_ids"], "未编号"}
    assert risk["details"]["total"] == split["details"]["total"] + 950_000
    assert _of(answer, "over_cap") == [] and answer["verdict"] == "caution"
    over = _check(
        screened,
        {
            "supplier": {"uscc": split["suppliers"][0]},
            "project": {"category": "工程类", "amount_wan": 120},
        },
    )
    [too_much] = _of(over, "over_cap")
    assert too_much["details"]["cap"] == 1_000_000 and too_much["severity"] == "high"


def test_related_quoting_suppliers(screened: Api) -> None:
    batch = _finding(screened, "collusive_quotes", project_ids="LG2024-LC-0526")
    a, *others = batch["suppliers"]
    answer = _check(
        screened,
        {"supplier": {"uscc": a}, "quoting_suppliers": [{"uscc": o} for o in others]},
    )
    [found] = _of(answer, "collusive_quotes")
    assert "contact" in {r["kind"] for r in found["details"]["relations"]}
    assert answer["verdict"] in ("caution", "conflict")
    alone = _check(screened, {"supplier": {"uscc": a}})
    assert not _rule(alone, "collusive_quotes")["checked"]


def test_nothing_unchecked_is_called_clear(screened: Api) -> None:
    """A clear verdict names what it checked; a rule that lacked its inputs is named as
    unchecked in the sentence."""
    batch = _finding(screened, "avoidance", staff_ids="HG0327")
    answer = _check(
        screened,
        {
            "supplier": {"uscc": batch["suppliers"][0]},
            "panel": [{"staff_id": "LC0001"}],
            "project": {"category": "货物类", "amount_wan": 5},
        },
    )
    assert answer["verdict"] == "clear", answer["summary"]
    unchecked = [r for r in answer["rules"] if r["applicable"] and not r["checked"]]
    assert unchecked and all(r["title"] in answer["summary"] for r in unchecked)


@pytest.mark.parametrize(
    "body",
    [
        {"supplier": {}},
        {"supplier": {"name": "x"}, "panel": [{}]},
        {"supplier": {"name": "x"}, "project": {"category": "其他"}},
        {"supplier": {"name": "x"}, "project": {"amount": -1}},
        {"supplier": {"name": "x"}, "panel": [{"staff_id": "A", "step": "旁听"}]},
    ],
)
def test_bad_requests_are_problems(screened: Api, body: dict[str, Any]) -> None:
    r = screened.post("/check", role="reviewer", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"]


def test_no_screening_yet_is_503(api: Api) -> None:
    r = api.post("/check", role="reviewer", json={"supplier": {"name": "深圳市某公司"}})
    assert r.status_code == 503 and r.json()["status"] == 503
