"""The pre-award check on the screened demo district: it says what the batch says, with the
path and the confidence of each identity link, and the other risks of the award."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

from integrity.load import load_dataset
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
    [hit] = answer["avoidance"]
    assert hit["staff_id"] == "BT0234" and hit["relation"] == "三代以内旁系血亲"
    assert hit["path"] == batch["details"]["path"]
    assert hit["confidence"] == batch["confidence"]  # the batch's prior, the batch's score
    assert hit["identity_confidence"] == batch["details"]["identity_confidence"]
    kinds = [e["kind"] for e in hit["evidence"]]
    assert kinds[:3] == ["kin", "identity", "role"] and kinds[-1] == "policy"
    assert hit["evidence"][0]["source"]["file"] == "family_links.csv"
    assert "第二十三条第（五）项" in hit["citation"]
    # the reviewer sees the panel member's ID-number key masked
    assert re.fullmatch(r"id:\d{4}\*{10}\d{3}[\dX]", answer["panel"][0]["person_key"])


def test_self_dealing_and_a_clean_panel(screened: Api) -> None:
    batch = _finding(screened, "avoidance", staff_ids="HG0327")
    body = {"supplier": {"uscc": batch["suppliers"][0]}, "panel": [{"staff_id": "HG0327"}]}
    [hit] = _check(screened, body)["avoidance"]
    assert hit["self_dealing"] and hit["severity"] == "high" and hit["confidence"] == 1.0
    clean = _check(screened, body | {"panel": [{"staff_id": "LC0001"}, {"staff_id": "LC0002"}]})
    assert clean["avoidance"] == []


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
    assert answer["supplier"]["found_by"] == "未找到"
    [hit] = answer["avoidance"]
    assert hit["relation"] == "配偶" and hit["confidence"] == 1.0
    assert any("本次申报材料" in e["text"] for e in hit["evidence"])
    # the same name without the number: a lead at most, never an assertion on a name alone
    bare = _check(
        screened,
        {
            "supplier": {"name": "深圳市新开张物业管理有限公司", "people": [{"name": "张敏"}]},
            "panel": [{"staff_id": "LC0004"}],
        },
    )
    assert all(h["confidence"] < 0.5 for h in bare["avoidance"])


def test_panel_names_resolved_or_explained(screened: Api) -> None:
    answer = _check(
        screened,
        {"supplier": {"name": "不存在的公司"}, "panel": [{"name": "黎志斌"}, {"name": "查无此人"}]},
    )
    assert answer["panel"][0]["found"] and answer["panel"][0]["staff_id"] == "LC0004"
    assert not answer["panel"][1]["found"] and answer["panel"][1]["note"] == "人员表中无此姓名"


def test_catalogue_on_the_date(screened: Api) -> None:
    catalogue = load_dataset(DEMO).table("catalogue")
    entry = catalogue[catalogue["uscc_valid"].fillna(False).astype(bool)].iloc[0]
    start = pd.Timestamp(entry["valid_from"]) if pd.notna(entry["valid_from"]) else None
    day = (start + pd.Timedelta(days=1)) if start is not None else pd.Timestamp("2024-06-01")
    body = {
        "supplier": {"uscc": entry["uscc"]},
        "project": {"category": "服务类", "amount_wan": 10, "date": str(day.date())},
    }
    inside = _check(screened, body)["catalogue"]
    assert inside["applies"] and inside["listed"], inside
    if start is not None:
        before = dict(
            body, project=dict(body["project"], date=str((start - pd.Timedelta(days=1)).date()))
        )
        assert _check(screened, before)["catalogue"]["listed"] is False
    works = _check(screened, dict(body, project=dict(body["project"], category="工程类")))
    assert works["catalogue"]["applies"] is False
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
    assert near["catalogue"]["listed"] is False
    assert near["catalogue"]["near_names_other_uscc"], near["catalogue"]
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
    risk = answer["split_bid"]
    assert risk["risk"] == "high"
    assert {a["project_id"] for a in risk["awards"]} == set(split["project_ids"])
    assert risk["total_with_this"] == split["details"]["total"] + 950_000
    assert answer["over_cap"]["over"] is False and answer["verdict"] == "caution"
    over = _check(
        screened,
        {
            "supplier": {"uscc": split["suppliers"][0]},
            "project": {"category": "工程类", "amount_wan": 120},
        },
    )
    assert over["over_cap"]["over"] is True and over["over_cap"]["cap"] == 1_000_000


def test_related_quoting_suppliers(screened: Api) -> None:
    batch = _finding(screened, "collusive_quotes", project_ids="LG2024-LC-0526")
    a, *others = batch["suppliers"]
    answer = _check(
        screened,
        {"supplier": {"uscc": a}, "quoting_suppliers": [{"uscc": o} for o in others]},
    )
    kinds = {q["kind"] for q in answer["quotes"] if "kind" in q}
    assert "contact" in kinds, answer["quotes"]
    assert answer["verdict"] in ("caution", "conflict")


@pytest.mark.parametrize(
    "body",
    [
        {"supplier": {}},
        {"supplier": {"name": "x"}, "panel": [{}]},
        {"supplier": {"name": "x"}, "project": {"category": "其他"}},
        {"supplier": {"name": "x"}, "project": {"amount": -1}},
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
