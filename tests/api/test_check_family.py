"""The check's pre-filter counts what the family's places could add to a name link, as the
batch's blocking does (blocking.lowered_need): a holder with an ID number whose region code
could be the family's is let through where the same name without a number is not."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric

from api.check.holders import HolderArrays
from api.check.index import CheckIndex
from integrity.identity.blocking import context_pairs, lowered_need, need_bits
from integrity.identity.family import COUNTY
from integrity.identity.mentions import prepare
from integrity.scan import run_scan
from integrity.screening.registry import as_other
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def index() -> CheckIndex:
    return CheckIndex(run_scan(DEMO, policy="longgang-2023"), screening_id="s", dataset_id="d")


def _frame(name: str, region: str) -> pd.DataFrame:
    body = f"{region}19700101123"
    number = body + ric.calc_check_digit(body + "0")
    frame = prepare(
        pd.DataFrame(
            [
                {"key": f"id:{number}", "name": name, "id_number": number, "id_valid": True},
                {"key": "request:x", "name": name, "id_number": None, "id_valid": False},
            ]
        ).assign(role="法定代表人", org_key="o", file="f", row=1, table="supplier_people"),
        with_pinyin=False,
    )
    # the birth date the number gives is not compared here (the kin row has none)
    frame["birth"] = None
    return frame


def test_the_pre_filter_counts_the_familys_places(index: CheckIndex) -> None:
    kin = index.kin
    lift = index._kin_lift
    usable = (lift > 0) & ~index._kin_birth & ~index._kin_phone
    assert usable.sum() > 100  # the demo's relatives without numbers, their families' codes known
    row = int(np.flatnonzero(usable)[0])
    assert lift[row] == pytest.approx(kin["fam_same"].iloc[row])
    code = str(kin["fam_regions"].iloc[row]).split("|")[0]
    right = HolderArrays.of(_frame(str(kin["name"].iloc[row]), code))
    let_through = {0: 0, 1: 0}
    for prior in np.logspace(-14, -1, 400):
        _, holder = index.candidates(np.array([row]), right, prior=float(prior), floor=0.5)
        found = set(holder.tolist())
        assert found <= {0, 1} and (1 not in found or 0 in found)
        for h in found:
            let_through[h] += 1
    # some priors let the numbered holder through on the family's lift alone
    assert let_through[0] > let_through[1] > 0
    # the batch's blocking lets the same holders through at every prior
    lp = prepare(kin.iloc[[row]].reset_index(drop=True), with_pinyin=False).assign(c=1)
    rp = _frame(str(kin["name"].iloc[row]), code).assign(c=1)
    freq = index.scr.name_commonness
    for prior in np.logspace(-14, -1, 100).tolist():
        _, holder = index.candidates(np.array([row]), right, prior=prior, floor=0.5)
        lowered = partial(lowered_need, prior, 0.5, index.panel_context)
        need = need_bits(prior, 0.5, index.panel_context)
        pairs = context_pairs(lp, rp, ["c"], freq, need, None, lowered)
        assert set(pairs["r"].tolist()) == set(holder.tolist()), prior


def test_the_pre_filter_never_weighs_a_number_the_request_gave(index: CheckIndex) -> None:
    kin = index.kin
    usable = (index._kin_lift > 0) & ~index._kin_birth & ~index._kin_phone
    row = int(np.flatnonzero(usable)[0])
    code = str(kin["fam_regions"].iloc[row]).split("|")[0]
    frame = _frame(str(kin["name"].iloc[row]), code)
    frame["fam_blind"] = [True, False]  # the first: a number the request gave
    right = HolderArrays.of(frame)
    assert right.id_valid.tolist() == [False, False]
    for prior in np.logspace(-14, -1, 100).tolist():
        _, holder = index.candidates(np.array([row]), right, prior=prior, floor=0.5)
        # both the same name without a weighable number: let through alike or not at all
        assert set(holder.tolist()) in ({0, 1}, set())


def test_the_pre_filter_counts_the_companys_county(index: CheckIndex) -> None:
    """Where the companies' counties are weighed (identity.addresses; the demo's suppliers
    are all registered in one district, so here the lift is set by hand), a holder without a
    number whose company's county is known is let through where the same name without a
    county is not, as the batch's blocking lets it through."""
    kin = index.kin.copy()
    lift = index._kin_lift.copy()
    usable = (lift > 0) & ~index._kin_birth & ~index._kin_phone
    row = int(np.flatnonzero(usable)[0])
    kin["fam_addr_same"] = lift
    saved = (index._kin_addr_lift, dict(index._lowered_needs))
    index._kin_addr_lift, index._lowered_needs = lift, {}
    try:
        frame = _frame(str(kin["name"].iloc[row]), "440307")
        frame.loc[0, ["key", "id_number", "id_valid"]] = ["sp:1", None, False]
        frame[COUNTY] = ["440307", None]
        right = HolderArrays.of(frame)
        assert right.county.tolist() == [True, False] and not right.id_valid.any()
        through = {0: 0, 1: 0}
        lp = prepare(kin.iloc[[row]].reset_index(drop=True), with_pinyin=False).assign(c=1)
        rp = frame.assign(c=1)
        for prior in np.logspace(-14, -1, 200).tolist():
            _, holder = index.candidates(np.array([row]), right, prior=prior, floor=0.5)
            found = set(holder.tolist())
            assert 1 not in found or 0 in found
            for h in found:
                through[h] += 1
            lowered = partial(lowered_need, prior, 0.5, index.panel_context)
            need = need_bits(prior, 0.5, index.panel_context)
            # the right side as kin_in_roles hands it to the viability test (as_other)
            other = as_other(rp, None)
            pairs = context_pairs(lp, rp, ["c"], index.scr.name_commonness, need, other, lowered)
            # the batch lets the holder with a county through exactly where the check does
            # (and, its headroom being per row, the other one with it)
            batch = set(pairs["r"].tolist())
            assert found <= batch and (0 in found) == (0 in batch), prior
        assert through[0] > through[1] > 0
    finally:
        index._kin_addr_lift, index._lowered_needs = saved
