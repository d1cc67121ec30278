"""One judgement, two doors: every project of the demo district, under every profile, sent to
the pre-award check as it stood before award (its own row, its panel with the recusals
recorded, its quotes) gets the same findings from the check as the batch screening writes
about it, rule by rule — the same ids, severities, confidences, clauses, explanations and
evidence, the rows the check read from the request cited as the request."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from api.check.answer import answer
from api.check.index import CheckIndex
from api.check.models import CheckIn
from integrity.findings import REQUEST_SOURCE
from integrity.identity.calibration import KIND_NOTES, SHARED
from integrity.identity.family import COUNTY
from integrity.load.dataset import Dataset, load_dataset
from integrity.policy import available_profiles
from integrity.rules import REGISTRY
from integrity.scan import run_scan
from integrity.screening.tables import Tables
from tests.conftest import DEMO

ASSESSED = sorted(code for code, rule in REGISTRY.items() if rule.assess is not None)
# the steps that cite the rows of the award itself: from the ledger in the batch, from the
# request in the check (the same text but for the label of where it was read)
OWN_ROWS = ("project", "participation", "quote")
LABEL = re.compile(r"^(本次核查请求|项目台账|经办与评审记录|询价比价记录)：")


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return load_dataset(DEMO)


def _value(v: Any) -> Any:
    return None if v is None or (not isinstance(v, list | tuple) and pd.isna(v)) else v


def request_for(pid: str, demo: Dataset) -> dict[str, Any] | None:
    """The check request for a ledger project as it stood before award; None when the
    project has no awarded supplier."""
    projects = demo.tables["projects"]
    p = projects[projects["project_id"] == pid].iloc[0].to_dict()
    uscc = _value(p.get("uscc")) if p.get("uscc_valid") else None
    name = _value(p.get("supplier_name"))
    if uscc is None and name is None:
        return None
    when = _value(p.get("award_date")) or _value(p.get("approved_date"))
    project = {
        "project_id": pid,
        "title": p["name"],
        "category": _value(p.get("category")),
        "amount": _value(p.get("amount")),
        "community": _value(p.get("community")),
        "street": _value(p.get("street")),
        "date": None if when is None else str(pd.Timestamp(when).date()),
        "funded_amount": _value(p.get("funded_amount")),
        "declared_package": _value(p.get("declared_package")),
        "catalogue_item": _value(p.get("catalogue_item")),
        "nominator_count": None
        if _value(p.get("nominator_count")) is None
        else int(p["nominator_count"]),
    }
    part = demo.tables["participants"]
    panel = [
        {
            **({"staff_id": r["staff_id"]} if _value(r["staff_id"]) else {"name": r["name"]}),
            "step": r["role"],
            "recused": bool(_value(r.get("recused"))),
        }
        for r in part[(part["project_id"] == pid) & (part["role"] != "点选")].to_dict("records")
    ]
    quotes = demo.tables["quotes"]
    rows = quotes[quotes["project_id"] == pid].sort_values("_row").to_dict("records")

    def party(r: dict[str, Any]) -> dict[str, Any]:
        out = {"name": _value(r.get("supplier_name")), "quote": _value(r.get("amount"))}
        if r.get("uscc_valid"):
            out["uscc"] = r["uscc"]
        return out

    mine = [r for r in rows if r.get("selected") is True]
    supplier = {"name": name, **({"uscc": uscc} if uscc else {})}
    if len(mine) == 1:
        supplier["quote"] = _value(mine[0].get("amount"))
    return {
        "supplier": supplier,
        "project": project,
        "panel": panel,
        "quoting_suppliers": [party(r) for r in rows if r not in mine],
    }


def _normal(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding with the steps citing the award's own rows reduced to what they say (the
    check reads them from the request, the batch from the ledger)."""
    own, rest = [], []
    for step in finding["evidence"]:
        if step["kind"] in OWN_ROWS:
            own.append((step["kind"], LABEL.sub("", step["text"]), repr(step["data"])))
        else:
            rest.append(step)
    explanation = finding["explanation"].replace("本次核查请求", "项目台账")
    # (a sitting the ledger entered twice is one step in the request)
    return finding | {"evidence": rest, "own_rows": sorted(set(own)), "explanation": explanation}


@pytest.mark.parametrize("policy", available_profiles())
def test_the_check_says_what_the_batch_says(policy: str, demo: Dataset) -> None:
    _check_equals_batch(DEMO, policy, demo)


def test_the_check_says_what_the_batch_says_where_the_data_shares_names(
    demo: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same where every name is one the data's numbered people share (each exact match
    then stated by the map of all pairs): both doors read the screening's shared names, and
    the batch's links say so in their reasons."""
    every = property(lambda scr: frozenset(scr.people["name_norm"].dropna()))
    monkeypatch.setattr(Tables, "shared_names", every)
    said = _check_equals_batch(DEMO, "longgang-2023", demo)
    assert any(KIND_NOTES[SHARED] in repr(f["evidence"]) for f in said), "no link said shared"


# Shenzhen's districts by region code: the demo's suppliers registered again where their legal
# representative's household is (identity.addresses then weighs the companies' counties)
DISTRICTS = {"440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区"}


@pytest.fixture(scope="module")
def local_firms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with each supplier registered in its legal representative's home district
    where that is in Shenzhen, else in 龙岗 (the demo registers every one in 龙岗)."""
    out = tmp_path_factory.mktemp("local") / "longgang"
    shutil.copytree(DEMO, out)
    path = out / "供应商.csv"
    firms = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    codes = firms["法定代表人身份证号"].fillna("").str.slice(0, 6)
    district = codes.map(DISTRICTS).fillna("龙岗区")
    firms["注册地址"] = "深圳市" + district + firms["注册地址"].str.split("区", n=1).str[1]
    firms.to_csv(path, index=False, encoding="utf-8-sig")
    return out


def test_the_check_says_what_the_batch_says_where_counties_weigh(local_firms: Path) -> None:
    """The same where the companies' counties are weighed: the check's holders carry their
    company's county, its pre-filter counts what the county could add."""
    _check_equals_batch(local_firms, "longgang-2023", load_dataset(local_firms))


def _check_equals_batch(where: Path, policy: str, demo: Dataset) -> list[dict[str, Any]]:
    """Every project sent to the check equals the batch; the findings compared."""
    result = run_scan(where, policy=policy)
    index = CheckIndex(result, screening_id="s", dataset_id="d")
    if where != DEMO:
        places = index.scr.family_places
        assert places.address_share > 0 and COUNTY in index.holders, places
        # some finding rests on a link the county moved (so both doors' county path is compared)
        weighed = [f for f in result.findings if "企业注册地所在区县" in str(f.to_dict())]
        assert weighed, "no finding weighs a company's county"
    batch: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for f in result.findings:
        if f.rule in ASSESSED:
            for pid in f.project_ids:
                batch[pid][f.finding_id] = f.to_dict()
    nominated_by_rows = {
        pid
        for pid, found in batch.items()
        for f in found.values()
        if f["rule"] == "nomination" and "点选记录" in f["explanation"]
    }
    checked, compared = 0, []
    for pid in demo.tables["projects"]["project_id"].astype(str):
        body = request_for(pid, demo)
        if body is None:
            continue
        out = answer(index, CheckIn.model_validate(body))
        got = {a.finding_id: a.model_dump() for a in out.assessments}
        want = dict(batch.get(pid, {}))
        if pid in nominated_by_rows:  # the ledger counts its 点选 rows; a request states a count
            got = {k: v for k, v in got.items() if v["rule"] != "nomination"}
            want = {k: v for k, v in want.items() if v["rule"] != "nomination"}
        assert sorted(got) == sorted(want), (policy, pid, sorted(got), sorted(want))
        for fid, found in got.items():
            assert _normal(found) == _normal(want[fid]), (policy, pid, fid)
            # the award's own rows are read from the request (a split's earlier awards from
            # the ledger)
            own = [
                s
                for s in found["evidence"]
                if s["kind"] in OWN_ROWS and s["data"].get("project_id", pid) == pid
            ]
            assert own and all(s["source"]["file"] == REQUEST_SOURCE for s in own), fid
        checked += 1
        compared += got.values()
    assert checked > 400 and len(compared) >= 5, (checked, len(compared))
    return compared
