"""The pre-award check's pre-filter (CheckIndex.maybe_related) lets through every pair of
suppliers the batch's org_relations finds related, on the hand-written collusive cases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from api.check.index import CheckIndex
from api.check.relations import name_keys
from integrity.identity.scoring import score_in_context
from integrity.scan import run_scan
from integrity.screening.org_relations import org_relations

CASE = Path(__file__).resolve().parents[2] / "fixtures/cases/collusive_quotes"
COUPLE = ("uscc:91440307CCCCCCCC15", "uscc:91440307CCCCCCCC28")  # bare 诸葛明远, bare 上官雪梅
COMMON = ("uscc:91440307CCCCCCCC3B", "uscc:91440307CCCCCCCC4E")  # bare 王伟, bare 李娜


@pytest.fixture(scope="module")
def index() -> CheckIndex:
    result = run_scan(CASE, policy="longgang-2023")
    return CheckIndex(result, screening_id="s", dataset_id="d")


def test_two_bare_names_of_a_registered_couple_pass_the_pre_filter(index: CheckIndex) -> None:
    assert index.maybe_related(*COUPLE) and index.maybe_related(*reversed(COUPLE))
    [reason] = index.relations([COUPLE], "collusive_quotes").to_dict("records")
    assert reason["kind"] == "kin" and reason["confidence"] >= 0.5
    assert [e.kind for e in reason["evidence"]] == ["role", "identity", "kin", "identity", "role"]


def test_the_commonest_names_of_a_registered_couple_decide_nothing(index: CheckIndex) -> None:
    assert not index.maybe_related(*COMMON)


def test_every_related_pair_of_the_batch_passes_the_pre_filter(index: CheckIndex) -> None:
    orgs = sorted(index.org_keys)
    pairs = [(a, b) for i, a in enumerate(orgs) for b in orgs[i + 1 :]]
    for rule, prior in index.org_priors.items():
        found = org_relations(index.scr, pd.DataFrame(pairs, columns=["a", "b"]), prior=prior)
        strong = found[found["confidence"] >= 0.5]
        assert len(strong) >= 5, rule
        for a, b in zip(strong["a"], strong["b"], strict=True):
            assert index.maybe_related(a, b), (rule, a, b)


def test_the_reasons_the_index_allows_are_the_reasons_found(index: CheckIndex) -> None:
    """org_relations asked only for the kinds of reason the index says are possible gives
    every strong reason that asking for all of them gives (what the check relies on)."""
    orgs = sorted(index.org_keys)
    pairs = [(a, b) for i, a in enumerate(orgs) for b in orgs[i + 1 :]]
    prior = index.org_priors["collusive_quotes"]
    found = org_relations(index.scr, pd.DataFrame(pairs, columns=["a", "b"]), prior=prior)
    strong = found[found["confidence"] >= 0.5]
    assert set(strong["kind"]) >= {"same_person", "kin"}
    for (a, b), rows in strong.groupby(["a", "b"]):
        kinds = index.possible_kinds(a, b)
        assert set(rows["kind"]) <= kinds, (a, b, kinds)
        asked = org_relations(
            index.scr, pd.DataFrame([(a, b)], columns=["a", "b"]), prior=prior, kinds=kinds
        )
        asked = asked[asked["confidence"] >= 0.5]
        assert sorted(asked["label"]) == sorted(rows["label"]), (a, b)


def test_a_shared_name_decides_as_the_resolver_scores_it(index: CheckIndex) -> None:
    """The pre-filter's shared-name test (scored as records) says what the resolver's
    score_in_context says of the same holder pairs, for every pair of the case's suppliers
    and each supplier with itself (its holders are themselves: a name that decides)."""
    orgs = sorted(index.org_keys)
    said = []
    for i, a in enumerate(orgs):
        for b in orgs[i:]:
            ha = index.holders_of(a).reset_index(drop=True)
            hb = index.holders_of(b).reset_index(drop=True)
            pairs = [
                (x, y)
                for x, kx in enumerate(name_keys(n) for n in ha["name_norm"])
                for y, ky in enumerate(name_keys(n) for n in hb["name_norm"])
                if kx & ky
            ]
            if not pairs:
                continue
            scored = score_in_context(
                ha,
                hb,
                pd.DataFrame(pairs, columns=["l", "r"]),
                prior=index.org_prior_loosest,
                frequencies=index.commonness,
            )
            expected = bool((scored["confidence"] >= 0.5).any())
            assert index._same_name_decides(a, b) == expected, (a, b)
            said.append(expected)
    assert True in said and False in said
