"""A registry held elsewhere (:mod:`integrity.screening.registry`) changes nothing a screening
concludes: with the person-role rows of every organisation the dataset's own tables do not
name held by a stand-in registry (pandas, answering the protocol as Spark does), the roster
rules give the findings the default engine gives with every row in the dataset — id for id,
confidence for confidence, evidence for evidence — on the demo and on generated districts.

No Spark here: this holds the screening's side of the protocol (the prior's counts, the name
commonness, the viability against the whole roster, the roster's order, the met holders);
tests/integrity/test_spark_registry.py holds Spark's side to the same findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fixtures.generate_demo import generate
from integrity.identity.blocking import deletions, headroom
from integrity.identity.keys import ENGINE_ORG_KEY, with_identity_keys
from integrity.identity.mentions import NameCounts, name_frequencies, pinyin_of
from integrity.identity.names import split_surname
from integrity.load.dataset import Dataset, load_dataset
from integrity.policy import load_profile
from integrity.rules import ScanContext
from integrity.scan import ROSTER_RULES, run_rules
from integrity.screening.registry import RosterCounts, as_other
from integrity.screening.tables import build_holders, holder_persons
from tests.conftest import DEMO

ROSTER_ONLY = ("staff", "relatives", "family_links")


class FrameRegistry:
    """The registry protocol over keyed supplier_people rows, in pandas."""

    name = "frames"

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows
        self.holders = build_holders({"supplier_people": rows})
        self.asked: list[str] = []

    def names(self, known: pd.DataFrame) -> NameCounts:
        h = self.holders
        persons = pd.DataFrame({"person": holder_persons(h), "name_norm": h["name_norm"]})
        persons = persons.drop_duplicates()
        seen = persons.merge(known[["person", "name_norm"]], how="left", indicator=True)
        persons = seen[seen["_merge"] == "left_only"]
        given = persons["name_norm"].map(lambda n: split_surname(n)[1]).value_counts()
        return NameCounts(given.astype(float), int(given.sum()))

    def roster(self, roles: tuple[str, ...], known_ids: pd.Index) -> RosterCounts:
        h = self.holders[self.holders["role"].isin(roles)]
        ids = set(h.loc[h["id_valid"], "id_number"].astype(str)) - set(known_ids.astype(str))
        born = h["birth"].notna()
        return RosterCounts(
            len(ids),
            bool(born.any()),
            bool((born & ~h["id_valid"]).any()),
            bool(h["phone"].notna().any()),
        )

    def meeting(self, keys: pd.DataFrame, roles: tuple[str, ...], skip: pd.Index) -> pd.DataFrame:
        self.asked.append(",".join(sorted(keys["level"].unique())))
        h = self.holders[self.holders["role"].isin(roles)]
        wanted = set(zip(keys["level"], keys["b"], strict=True))
        forms = {
            "key": h["key"].astype(str),
            "name": h["name_norm"],
            "pinyin": pinyin_of(h["name_norm"]),
        }
        met = np.zeros(len(h), dtype=bool)
        for level, values in forms.items():
            met |= np.array([(level, v) in wanted for v in values], dtype=bool)
        edits = h["name_norm"].map(deletions)
        met |= np.array([any(("edit", e) in wanted for e in es) for es in edits], dtype=bool)
        orgs = set(h.loc[met, "org_key"]) - set(skip)
        out = self.rows[self.rows["org_key"].isin(orgs)].copy()
        return out


def _held(ds: Dataset, keep: tuple[str, ...] | None) -> tuple[Dataset, FrameRegistry]:
    """The dataset with only the person-role rows of the organisations its other tables name
    (their organisation key given, as Spark gives it), and a registry holding the rest."""
    keyed = with_identity_keys(ds)
    tables = {k: v for k, v in ds.tables.items() if keep is None or k in keep}
    named: set[str] = set()
    for name in ("suppliers", "projects", "quotes"):
        if name in tables:
            named.update(keyed[name]["org_key"].dropna())
    sp = ds.tables["supplier_people"]
    org = keyed["supplier_people"]["org_key"]
    here = org.isin(named).to_numpy()
    tables["supplier_people"] = sp[here].assign(**{ENGINE_ORG_KEY: org[here].to_numpy()})
    if not here.any():
        del tables["supplier_people"]
    rest = keyed["supplier_people"][~here]
    held = Dataset(root=ds.root, tables=tables, sources=ds.sources)
    return held, FrameRegistry(rest)


def _judged(findings: list[Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (f.finding_id, f.confidence, f.explanation, tuple(str(e.to_dict()) for e in f.evidence))
        for f in findings
    )


def _roster_findings(ds: Dataset, registry: FrameRegistry | None = None) -> list[Any]:
    profile = load_profile("longgang-2023")
    ctx = ScanContext(dataset=ds, profile=profile, registry=registry)
    findings, _ = run_rules(ds, profile, list(ROSTER_RULES), ctx=ctx)
    return findings


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return load_dataset(DEMO)


@pytest.mark.parametrize("keep", [None, ROSTER_ONLY], ids=["with-ledger", "roster-only"])
def test_demo_roster_rules_with_a_held_registry(demo: Dataset, keep: Any) -> None:
    held, registry = _held(demo, keep)
    full = (
        demo
        if keep is None
        else Dataset(
            root=demo.root,
            tables={k: v for k, v in demo.tables.items() if k in (*keep, "supplier_people")},
            sources=demo.sources,
        )
    )
    want = _roster_findings(full)
    got = _roster_findings(held, registry)
    assert len(want) > 0
    assert _judged(got) == _judged(want)
    # the registry was asked by key, then by the names' forms
    assert registry.asked and registry.asked[0] == "key"


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_generated_districts_roster_only(tmp_path: Path, seed: int) -> None:
    generate(tmp_path, seed=seed, namesakes=True)
    ds = load_dataset(tmp_path / "longgang")
    full = Dataset(
        root=ds.root,
        tables={k: v for k, v in ds.tables.items() if k in (*ROSTER_ONLY, "supplier_people")},
        sources=ds.sources,
    )
    held, registry = _held(ds, ROSTER_ONLY)
    assert "supplier_people" not in held.tables
    want = _roster_findings(full)
    assert len(want) > 0
    assert _judged(_roster_findings(held, registry)) == _judged(want)


def test_name_counts_held_elsewhere_give_the_frequencies_of_all_names() -> None:
    names = pd.Series(["王芳", "王伟", "李芳", "欧阳子萱", "张伟", "王芳", "陈静"])
    here, there = names[:3].to_frame("name_norm"), names[3:].to_frame("name_norm")
    given = there["name_norm"].map(lambda n: split_surname(n)[1]).value_counts()
    more = NameCounts(given.astype(float), len(there))
    together = name_frequencies(names.to_frame("name_norm"))
    apart = name_frequencies(here, more=more)
    for name in apart.index:
        assert apart[name] == pytest.approx(together[name])


def test_the_other_side_of_a_viability_test_includes_what_the_registry_holds() -> None:
    people = pd.DataFrame(
        {
            "name_norm": ["欧阳子萱"],
            "birth": [pd.Timestamp("1980-01-01")],
            "id_valid": [False],
            "phone": [None],
        }
    )
    right = pd.DataFrame({"birth": [pd.NaT], "id_valid": [False], "phone": [None]})
    freq = pd.Series({"欧阳子萱": 1e-6})
    alone = headroom(people, freq, as_other(right, None))
    more = RosterCounts(10, birth=True, birth_no_id=True, phone=True)
    together = headroom(people, freq, as_other(right, more))
    # a birth date can now be compared, and a phone
    assert together[0] > alone[0]
    full = pd.DataFrame(
        {
            "birth": [pd.NaT, pd.Timestamp("1970-01-01"), pd.Timestamp("1970-01-01"), pd.NaT],
            "id_valid": [False, True, False, True],
            "phone": [None, None, None, "0"],
        }
    )
    assert together[0] == headroom(people, freq, full)[0]
