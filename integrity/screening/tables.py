"""What the rules share: identities, kin links, the batch kin expansion and role holders.

A :class:`Screening` is built once per scan and computed lazily, so a rule that needs none
of it (over_cap) costs nothing, and rules that need it share one computation:

- ``keyed``: the tables with identity keys (integrity.identity.keys);
- ``people``: one row per person key on the kin side (staff, declarations, registries), with
  the attributes the resolver compares (name, ID number, birth date, sex, phone);
- ``kin_links``: every kin link read from a declaration or a registry row, one row per path
  code (a term such as 表哥 stands for several), with its source row;
- ``bridges``: identity links between kin-side keys that carry no shared ID number but that
  the resolver believes are one person (a declared wife 吴丽 and the registry's 吴丽), each
  with its confidence and reasons;
- ``kinship``: every official's relatives within the legal categories, by relational joins
  over kin links and bridges (graph.expand), each path with the product of its confidences;
- ``holders``: every person in a role at an organisation (法定代表人, 负责人, 股东 ...), from
  the supplier table and the supplier_people table, with the source row;
- :meth:`Screening.match_in_context`: the resolver's scoring of pairs of people met in one
  context (a participant's relative and the awarded supplier's legal representative),
  where a shared name means far more than across the whole city.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from graph.expand import EXPANSION_COLUMNS, SAME, KinGraph, invert
from graph.kinship import Step, birth_gap, describe, parse_code
from integrity.findings import EvidenceStep, SourceRef
from integrity.identity.keys import with_identity_keys
from integrity.identity.names import person_name, person_names
from integrity.identity.resolve import (
    Weights,
    deletion_codes,
    deletions,
    filled,
    name_frequencies,
    pinyin_of,
    prepare,
    score,
)
from integrity.load.dataset import Dataset

# The prior that a relative of someone who decided on an award and a role holder of the
# awarded supplier are one person, before any feature is compared: if about 2% of awards
# involve a decision-maker's relative, and a panel of about five with about twenty known
# relatives each gives about a hundred such pairs per award, one pair in 5,000. A name match
# then decides only for a name rarer than about 1 in 5,000 people (张军海, not 张伟 or 王芳).
# Across the city the prior comes from the data (population_prior).
CONTEXT_PRIOR = 2e-4
# Across a whole roster (or a street's winners), each official's relatives meet thousands of
# registered role holders drawn from the general population, and few of the pairs are one
# person: ten times lower again. A name match alone then decides only for a rare name.
ROSTER_PRIOR = CONTEXT_PRIOR / 10
BRIDGE_FLOOR = 0.5  # identity links below this confidence are not followed at all
MAX_BRIDGES = 1  # identity links on one kin path: each is a guess, two in a row compound it
PERSON_COLUMNS = ["key", "name", "id_number", "id_valid", "birth_date", "gender", "phone"]


def _mentions(frame: pd.DataFrame, key: str, cols: dict[str, str], table: str) -> pd.DataFrame:
    """Rows of one table as mentions: key, name, id_number, id_valid, birth_date, gender,
    phone (absent columns as missing values)."""
    out = pd.DataFrame({"key": frame[key]})
    for target, col in cols.items():
        out[target] = frame.get(col, None)
    out["table"] = table
    return out.dropna(subset=["key"])


def population_prior(mentions: pd.DataFrame) -> float:
    """The prior that two mentions sharing a blocking key are one person, from the data: one
    over the estimated number of distinct people (mentions per person measured on the rows
    that carry a valid ID number)."""
    with_id = mentions[mentions["id_valid"].fillna(False).astype(bool)]
    per_person = len(with_id) / with_id["id_number"].nunique() if len(with_id) else 1.0
    people = max(len(mentions) / max(per_person, 1.0), 2.0)
    return min(0.5, per_person / people)


def _source(file: Any, row: Any, table: str) -> dict[str, Any]:
    return {"file": str(file), "row": int(row), "table": table}


@dataclass
class _LinkLookup:
    frame: pd.DataFrame
    cache: dict[str, dict[str, Any]] | None = None

    def __getitem__(self, link_id: str) -> dict[str, Any]:
        if self.cache is None:
            self.cache = {}
        hit = self.cache.get(link_id)
        if hit is None:
            row = self.frame.loc[link_id]
            if isinstance(row, pd.DataFrame):
                row = row.iloc[0]
            hit = {str(k): v for k, v in row.to_dict().items()}
            self.cache[link_id] = hit
        return hit


@dataclass
class Screening:
    dataset: Dataset
    # the prior each rule's matching used (estimated_prior), by rule: the pre-award check
    # scores its pairs with the same one
    priors: dict[str, float] = field(default_factory=dict)

    def prepare(self) -> dict[str, float]:
        """Compute the shared stages now, timing each (seconds, for run.json)."""
        stages: dict[str, float] = {}
        for stage, attr in (
            ("identity", "keyed"),
            ("roles", "holders"),
            ("resolve", "bridges"),
            ("kinship", "kinship"),
        ):
            began = time.perf_counter()
            getattr(self, attr)
            stages[stage] = round(time.perf_counter() - began, 4)
        return stages

    # ------------------------------------------------------------------ tables
    @cached_property
    def keyed(self) -> dict[str, pd.DataFrame]:
        return with_identity_keys(self.dataset)

    @cached_property
    def mentions(self) -> pd.DataFrame:
        """Every kin-side row naming a person, as a mention."""
        t = self.keyed
        parts = [
            _mentions(
                t["staff"],
                "person_key",
                {
                    "name": "name",
                    "id_number": "id_number",
                    "id_valid": "id_number_valid",
                    "birth_date": "birth_date",
                    "gender": "sex",
                    "phone": "phone",
                },
                "staff",
            )
        ]
        if "relatives" in t:
            parts.append(
                _mentions(
                    t["relatives"],
                    "person_key",
                    {
                        "name": "relative_name",
                        "id_number": "relative_id_number",
                        "id_valid": "relative_id_number_valid",
                        "gender": "sex",
                        "phone": "relative_phone",
                    },
                    "relatives",
                )
            )
        if "family_links" in t:
            fl = t["family_links"]
            for side in ("person", "relative"):
                parts.append(
                    _mentions(
                        fl,
                        f"{side}_key",
                        {
                            "name": f"{side}_name",
                            "id_number": f"{side}_id_number",
                            "id_valid": f"{side}_id_number_valid",
                            "gender": f"{side}_sex",
                        },
                        "family_links",
                    )
                )
        m = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
        m["id_valid"] = filled(m["id_valid"], False).astype(bool)
        return m

    @cached_property
    def people(self) -> pd.DataFrame:
        """One row per kin-side person key, first known value of each attribute, prepared
        for the resolver (normalised name, pinyin, birth, sex)."""
        m = self.mentions
        agg = m.groupby("key", sort=False).agg(
            {c: "first" for c in PERSON_COLUMNS if c != "key"} | {"table": "first"}
        )
        agg["id_valid"] = agg["id_valid"].fillna(False).astype(bool)
        people = prepare(agg, with_pinyin=False)
        lo, hi = implied_births(people["birth"], self.kin_links)
        people["born_lo"], people["born_hi"] = lo, hi
        return people

    @cached_property
    def kin_links(self) -> pd.DataFrame:
        """One row per (source row, path code): link_id, src, dst, code, src_sex, dst_sex,
        conf, term, file, row, table."""
        t = self.keyed
        columns = ["link_id", "src", "dst", "code", "src_sex", "dst_sex", "term", "file", "row"]
        parts: list[pd.DataFrame] = []
        staff = t["staff"]
        staff_key = pd.Series(staff["person_key"].to_numpy(), index=staff["staff_id"].astype(str))
        staff_key = staff_key[~staff_key.index.duplicated()]
        staff_sex = pd.Series(staff["sex"].to_numpy(), index=staff["person_key"])
        staff_sex = staff_sex[~staff_sex.index.duplicated()]

        def explode(frame: pd.DataFrame, table: str) -> pd.DataFrame:
            # one row per path code: a term such as 表哥 stands for several paths
            out = frame.explode("codes").dropna(subset=["codes", "src", "dst"])
            i = out.groupby(level=0).cumcount().astype(str)
            return pd.DataFrame(
                {
                    "link_id": table + ":" + out["_row"].astype(str) + ":" + i,
                    "src": out["src"],
                    "dst": out["dst"],
                    "code": out["codes"],
                    "src_sex": out["src_sex"],
                    "dst_sex": out["dst_sex"],
                    "term": out["relation"].astype(str),
                    "file": out["_file"].astype(str),
                    "row": out["_row"].astype(int),
                    "table": table,
                }
            )

        if "relatives" in t:
            rel = t["relatives"]
            src = rel["staff_id"].astype(str).map(staff_key)
            parts.append(
                explode(
                    rel.assign(
                        src=src,
                        dst=rel["person_key"],
                        src_sex=src.map(staff_sex),
                        dst_sex=rel.get("sex"),
                    ),
                    "relatives",
                )
            )
        if "family_links" in t:
            fl = t["family_links"]
            parts.append(
                explode(
                    fl.assign(
                        src=fl["person_key"],
                        dst=fl["relative_key"],
                        src_sex=fl.get("person_sex"),
                        dst_sex=fl.get("relative_sex"),
                    ),
                    "family_links",
                )
            )
        frame = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(columns=[*columns, "table"])
        )
        for col in ("src_sex", "dst_sex"):
            frame[col] = frame[col].where(frame[col].isin(["男", "女"]), None)
        frame["code"] = sex_neutral_codes(frame)
        frame["conf"] = 1.0
        frame["reasons"] = None
        return frame

    @cached_property
    def bridges(self) -> pd.DataFrame:
        """Identity links between kin-side keys without a shared valid ID number."""
        p = self.people.reset_index()
        if len(p) < 2:
            return self.kin_links.iloc[0:0]
        prior = self.population
        freq = self.name_commonness
        need = math.log2(BRIDGE_FLOOR / (1 - BRIDGE_FLOOR)) - math.log2(prior / (1 - prior))
        # a key with a valid ID number meets only keys without one: two numbers decide
        one = p.assign(_all=1)
        blocks = [_join(one, one, ["_all"], p["phone"], p["phone"])]
        # the same name (in either script) or the same phone; homophones and slips are left to
        # the contexts where they can weigh something (one project's panel)
        named = viable(p, freq, "name_norm", need)
        keys = p.loc[named, "name_norm"]
        blocks.append(_join(one, one, ["_all"], keys, keys))
        pairs = pd.concat(blocks, ignore_index=True).drop_duplicates()
        pairs = pairs[pairs["l"] < pairs["r"]]
        both_ids = p["id_valid"].to_numpy()
        pairs = pairs[~(both_ids[pairs["l"].to_numpy()] & both_ids[pairs["r"].to_numpy()])]
        if pairs.empty:
            return self.kin_links.iloc[0:0]
        scored = score(p, p, pairs.reset_index(drop=True), prior=prior, frequencies=freq)
        scored = scored[scored["confidence"] >= BRIDGE_FLOOR]
        keys = p["key"].to_numpy()
        return pd.DataFrame(
            {
                "link_id": [
                    f"same:{a}|{b}"
                    for a, b in zip(keys[scored["l"]], keys[scored["r"]], strict=True)
                ],
                "src": keys[scored["l"]],
                "dst": keys[scored["r"]],
                "code": SAME,
                "src_sex": None,
                "dst_sex": None,
                "term": "疑似同一人",
                "file": "resolver",
                "row": None,
                "table": "identity",
                "conf": scored["confidence"].to_numpy(),
                "reasons": scored["reasons"].to_numpy(),
            }
        )

    @cached_property
    def population(self) -> float:
        """The prior that two mentions of one name anywhere in the data are one person
        (:func:`population_prior`): what an identity bridge, or a bare holder taken for a
        registered person, is weighed against."""
        return population_prior(self.mentions)

    @cached_property
    def _links_by_id(self) -> pd.DataFrame:
        both = pd.concat([self.kin_links, self.bridges], ignore_index=True)
        return both.set_index("link_id", drop=False)

    @cached_property
    def link_index(self) -> _LinkLookup:
        """link id -> the link's row (as a dict), looked up when a finding explains a path."""
        return _LinkLookup(self._links_by_id)

    def build_lookups(self) -> None:
        """Build the lookups a finding's explanation reads (link rows, names by key) now,
        rather than in whichever rule asks first: before a split run forks, so that both
        processes share them instead of each building its own."""
        _ = self.link_index, self._name_by_key

    @cached_property
    def _name_by_key(self) -> dict[Any, Any]:
        return dict(zip(self.people.index, self.people["name"], strict=True))

    @cached_property
    def kinship(self) -> pd.DataFrame:
        """Each official's relatives within the legal categories (and the official's own
        other keys, category 本人), with path and confidence."""
        staff = self.keyed["staff"]
        officials = (
            pd.DataFrame({"key": staff["person_key"], "sex": staff["sex"]})
            .drop_duplicates("key")
            .reset_index(drop=True)
        )
        officials["sex"] = officials["sex"].where(officials["sex"].isin(["男", "女"]), None)
        return self.kin_graph.expand(officials, max_same=MAX_BRIDGES)

    @cached_property
    def kin_graph(self) -> KinGraph:
        """The kin links and the identity bridges as one graph, built once: the officials'
        kinship, the holders' and any other walk start from it."""
        links = pd.concat([self.kin_links, self.bridges], ignore_index=True)
        return KinGraph(links[["link_id", "src", "dst", "code", "src_sex", "dst_sex", "conf"]])

    @cached_property
    def keys_by_name(self) -> dict[str, np.ndarray]:
        """Each normalised name's person keys (people), for lookups that must not scan all
        people (the pre-award check asks about a few names)."""
        people = self.people["name_norm"].dropna()
        codes, names = pd.factorize(people.to_numpy())
        order = np.argsort(codes, kind="stable")
        bounds = np.cumsum(np.bincount(codes, minlength=len(names)))[:-1]
        keys = np.split(people.index.to_numpy()[order], bounds)
        return dict(zip(map(str, names), keys, strict=True))

    def named(self, names: Any) -> pd.Index:
        """The person keys of the people with any of these normalised names."""
        found = [self.keys_by_name[n] for n in names if n in self.keys_by_name]
        keys: pd.Index = pd.Index(np.concatenate(found) if found else np.array([], dtype=object))
        return keys

    def kin_among(self, sources: pd.Index, targets: pd.Index) -> pd.DataFrame:
        """The relatives within the legal categories of the people ``sources`` among the
        people ``targets`` (not the sources' own other keys), walked when asked."""
        sources = sources[in_index(sources, self.kin_graph.people)]
        if sources.empty:
            return pd.DataFrame(columns=EXPANSION_COLUMNS)
        start = pd.DataFrame(
            {"key": sources.to_numpy(), "sex": self.people["sex"].reindex(sources).to_numpy()}
        )
        kin = self.kin_graph.expand(start, max_same=MAX_BRIDGES, targets=targets)
        return kin[kin["category"] != "本人"].reset_index(drop=True)

    @cached_property
    def holders(self) -> pd.DataFrame:
        """Every (organisation, person, role) with the person's attributes and source row."""
        t = self.keyed
        parts: list[pd.DataFrame] = []
        if "suppliers" in t:
            su = t["suppliers"]
            for role, key_col, name_col, id_col in (
                ("法定代表人", "legal_rep_key", "legal_rep_name", "legal_rep_id_number"),
                ("负责人", "responsible_key", "responsible_person", None),
            ):
                if key_col not in su:
                    continue
                # the 负责人 is the legal representative when the row names them alike
                # (identity.py gives them one key): the row's ID number is theirs too
                ids = su.get("legal_rep_id_number")
                valid = su.get("legal_rep_id_number_valid", pd.Series(False, index=su.index))
                if id_col is None:
                    same = su[key_col] == su["legal_rep_key"]
                    ids = ids.where(same) if ids is not None else None
                    valid = valid.where(same, False)
                part = pd.DataFrame(
                    {
                        "org_key": su["org_key"],
                        "org_name": su["supplier_name"],
                        "key": su[key_col],
                        "name": su[name_col],
                        "id_number": ids,
                        "id_valid": valid,
                        "phone": None,
                        "role": role,
                        "share": None,
                        "file": su["_file"],
                        "row": su["_row"],
                        "table": "suppliers",
                    }
                )
                parts.append(part)
        if "supplier_people" in t:
            sp = t["supplier_people"]
            parts.append(
                pd.DataFrame(
                    {
                        "org_key": sp["org_key"],
                        "org_name": sp["supplier_name"] if "supplier_name" in sp else sp["org_key"],
                        "key": sp["person_key"],
                        "name": sp["name"],
                        "id_number": sp.get("id_number", None),
                        "id_valid": sp.get("id_number_valid", False),
                        "phone": None,
                        "role": sp["role"].astype(str),
                        "share": sp.get("share_ratio", None),
                        "file": sp["_file"],
                        "row": sp["_row"],
                        "table": "supplier_people",
                    }
                )
            )
        if not parts:
            return pd.DataFrame(
                columns=[
                    "org_key",
                    "org_name",
                    "key",
                    "name",
                    "id_number",
                    "id_valid",
                    "phone",
                    "role",
                    "share",
                    "file",
                    "row",
                    "table",
                    "name_nfkc",
                    "name_norm",
                ]
            )
        parts = [p for p in parts if not p.empty]
        h = pd.concat([p.astype(object) for p in parts], ignore_index=True)
        h = h.dropna(subset=["org_key", "key", "name"])
        h["id_valid"] = h["id_valid"].map(lambda v: bool(v) if pd.notna(v) else False).astype(bool)
        # the names' normalised forms, once per distinct name (prepare keeps them)
        names = h["name"].unique()
        written, comparable = person_names([str(v) for v in names])
        h["name_nfkc"] = h["name"].map(dict(zip(names, written, strict=True)))
        h["name_norm"] = h["name"].map(dict(zip(names, comparable, strict=True)))
        # within one organisation, a name is one person: a row without an ID number takes the
        # number another row of the same organisation gives that name (the supplier table
        # names the legal representative bare, the people table with his number), where the
        # rows give exactly one valid number for it
        with_id = h[h["id_valid"]].groupby(["org_key", "name_norm"])["id_number"]
        known = with_id.first().astype(str)[with_id.nunique() == 1]
        if len(known):
            fill = pd.Series(
                h[["org_key", "name_norm"]]
                .merge(known.rename("_fill").reset_index(), how="left")["_fill"]
                .to_numpy(),
                index=h.index,
            )
            take = ~h["id_valid"] & fill.notna()
            h.loc[take, "id_number"] = fill[take]
            h.loc[take, "id_valid"] = True
            h.loc[take, "key"] = "id:" + fill[take].astype(str)
        # one row per (organisation, person, role): the supplier table and the people table
        # often both name the legal representative
        h = h.sort_values(["id_valid"], ascending=False, kind="stable")
        h = h.drop_duplicates(subset=["org_key", "key", "role"]).sort_index()
        out = prepare(h.reset_index(drop=True), with_pinyin=False)
        last = ["name_nfkc", "name_norm", "birth", "sex"]
        return out[[*(c for c in out.columns if c not in last), *last]]

    # ------------------------------------------------------------------ matching
    def kin_in_roles(
        self,
        officials: pd.DataFrame,
        orgs: pd.DataFrame,
        *,
        on: list[str],
        roles: tuple[str, ...],
        prior: float = CONTEXT_PRIOR,
        floor: float = 0.05,
        label: str | None = None,
    ) -> pd.DataFrame:
        """Each (official or relative, role holder) pair met in one context and believed to
        be one person. ``officials``: rows with ``person_key`` and the context columns ``on``
        (and anything else, kept); ``orgs``: rows with ``org_key`` and the context columns.
        Returns the kin rows (kin_of) beside the holder's columns prefixed ``h_``, with
        ``match_conf`` (the identity match), ``reasons`` and ``confidence`` (kin path times
        identity match)."""
        holders = self.holders[self.holders["role"].isin(roles)]
        right = orgs.drop_duplicates().merge(holders, on="org_key")
        right = right.rename(columns={"file": "h_file", "row": "h_row", "table": "h_table"})
        if right.empty or not officials["person_key"].isin(self.kin_ids.index).any():
            return pd.DataFrame()
        prior = self._kin_prior(officials, right, on, prior)
        if label is not None:
            self.priors[label] = prior
        # only the relatives who could meet a holder in some block are materialised (a
        # screening's officials have a million relatives; a few thousand share a name key
        # with a holder)
        meeting = self._meeting(officials, right, on, prior, floor)
        left = _with_attributes(
            self,
            pd.concat(
                [
                    officials.iloc[meeting["o"].to_numpy()].reset_index(drop=True),
                    self.kin_all.iloc[meeting["k"].to_numpy()].reset_index(drop=True),
                ],
                axis=1,
            ),
        )
        if left.empty:
            return pd.DataFrame()
        matched = self.match_in_context(left, right, on=on, prior=prior, floor=floor)
        # a pair below the floor cannot make a finding (the kin path only lowers it)
        matched = matched[matched["confidence"] >= floor]
        lsel = left.reset_index(drop=True).loc[matched["l"]].reset_index(drop=True)
        rsel = right.reset_index(drop=True).loc[matched["r"]].reset_index(drop=True)
        out = pd.concat(
            [
                lsel,
                rsel.drop(columns=on).add_prefix("h_"),
                matched[["confidence", "reasons"]].reset_index(drop=True),
            ],
            axis=1,
        )
        out["match_conf"] = out["confidence"]
        out["confidence"] = (out["conf"] * out["match_conf"]).round(4)
        return out

    @cached_property
    def kin_all(self) -> pd.DataFrame:
        """Every staff member (本人) and his or her relatives within the legal categories:
        the kinship rows with a row of the official him- or herself first."""
        staff = self.keyed["staff"]
        own = pd.DataFrame({"official": staff["person_key"].drop_duplicates()})
        own["relative"] = own["official"]
        own["category"] = "本人"
        own["detail"] = ""
        own["code"] = ""
        own["simple"] = ""
        own["hops"] = 0
        own["via"] = [() for _ in range(len(own))]
        own["nodes"] = [(k,) for k in own["official"]]
        own["conf"] = 1.0
        return pd.concat([own, self.kinship], ignore_index=True)

    @cached_property
    def kin_ids(self) -> pd.DataFrame:
        """(official → relative's valid ID number) for the named relatives in kin_all, indexed
        by official: what the estimated prior counts."""
        people = self.people
        rel = self.kin_all["relative"]
        named = people["name"].reindex(rel).notna().to_numpy()
        valid = people["id_valid"].reindex(rel).fillna(False).astype(bool).to_numpy()
        pick = named & valid
        return pd.DataFrame(
            {
                "official": self.kin_all["official"].to_numpy()[pick],
                "relative": rel.to_numpy()[pick],
                "id_number": people["id_number"].reindex(rel).to_numpy()[pick],
            }
        ).set_index("official", drop=False)

    def _kin_prior(
        self, officials: pd.DataFrame, right: pd.DataFrame, on: list[str], guess: float
    ) -> float:
        """:func:`estimated_prior` of the officials' kin rows against ``right``, counted
        without materialising the kin rows: per context, the number of relatives with a
        valid ID number, and the (context, number) pairs the two sides share."""
        rid = right.loc[right["id_valid"].astype(bool), [*on, "id_number"]].drop_duplicates()
        ids = self.kin_ids
        per_official = ids.groupby(level=0).size()
        # in people, as estimated_prior counts: an official once per context (two officials
        # of one context sharing a relative would count that relative twice: rare, and
        # counting it exactly would build the kin rows this avoids)
        officials = officials[[*on, "person_key"]].drop_duplicates()
        counts = officials[on].assign(
            _n=officials["person_key"].map(per_official).fillna(0).astype(np.int64)
        )
        counts = counts[counts["_n"] > 0]
        if counts.empty or rid.empty:
            return guess
        ln = counts.groupby(on)["_n"].sum().rename("n_l")
        rn = rid.groupby(on).size().rename("n_r")
        both = pd.concat([ln, rn], axis=1, join="inner")
        pairs = float((both["n_l"] * both["n_r"]).sum())
        near = ids[ids["id_number"].isin(rid["id_number"])]
        lid = officials[[*on, "person_key"]].merge(
            near.reset_index(drop=True), left_on="person_key", right_on="official"
        )
        matches = len(lid[[*on, "id_number"]].drop_duplicates().merge(rid, on=[*on, "id_number"]))
        return smoothed_prior(matches, pairs, guess)

    def _meeting(
        self,
        officials: pd.DataFrame,
        right: pd.DataFrame,
        on: list[str],
        prior: float,
        floor: float,
    ) -> pd.DataFrame:
        """The (official row, kin row) pairs — positions in ``officials`` and in kin_all —
        whose relative meets some row of ``right`` in one of match_in_context's blocks: the
        same context and the same person key or, where a match at that level could reach
        ``floor`` at all, the same normalised name, pinyin or one-deletion form. Asked of
        each relative's blocking keys once, as joins; the kin rows themselves (a million for
        a city's officials) are never materialised."""
        kin = self.kin_all
        both = pd.concat([officials[on], right[on]], ignore_index=True)
        context = both.groupby(on, sort=False, dropna=False).ngroup().to_numpy()
        off = pd.DataFrame({"o": np.arange(len(officials)), "c": context[: len(officials)]}).assign(
            official=officials["person_key"].to_numpy()
        )
        sub = kin.loc[kin["official"].isin(off["official"]), ["official", "relative"]]
        sub = sub.rename_axis("k").reset_index()
        people = self.people.reindex(pd.Index(sub["relative"].unique()))
        people = people[people["name"].notna()]
        rp = prepare(right.reset_index(drop=True), with_pinyin=False)
        rp["c"] = context[len(officials) :]
        need = math.log2(floor / (1 - floor)) - math.log2(prior / (1 - prior))
        meets = [
            pd.DataFrame({"relative": people.index, "b": people.index}).merge(
                pd.DataFrame({"c": rp["c"], "b": rp["key"]}), on="b"
            )
        ]
        # the other side's names once each, and their keys only where ours has the key
        theirs = rp[["c", "name_norm"]].dropna().drop_duplicates()
        distinct = pd.Series(theirs["name_norm"].unique())
        levels = _viable_levels(people, self.name_commonness, need, rp)
        for level in ("name_norm", "pinyin", "deletion"):
            reachable = levels[level].to_numpy()
            names = people.loc[reachable, "name_norm"]
            if names.empty:
                continue
            if level == "deletion":
                ours_codes, their_codes = deletion_codes(names, distinct)
                ours = pd.DataFrame({"at": ours_codes.index, "b": ours_codes.to_numpy()})
                keys = pd.DataFrame(
                    {
                        "name_norm": distinct.to_numpy()[their_codes.index.to_numpy()],
                        "b": their_codes.to_numpy(),
                    }
                )
            elif level == "pinyin":
                ours = pd.DataFrame({"at": names.index, "b": pinyin_of(names).to_numpy()})
                keys = pd.DataFrame({"name_norm": distinct, "b": pinyin_of(distinct)})
            else:
                ours = pd.DataFrame({"at": names.index, "b": names.to_numpy()})
                keys = pd.DataFrame({"name_norm": distinct, "b": distinct})
            keys = keys[keys["b"].isin(ours["b"])]
            met_keys = theirs.merge(keys, on="name_norm")[["c", "b"]].drop_duplicates()
            meets.append(ours.rename(columns={"at": "relative"}).merge(met_keys, on="b"))
        met = pd.concat(meets, ignore_index=True)[["c", "relative"]].drop_duplicates()
        sub = sub[sub["relative"].isin(met["relative"])]
        rows = met.merge(sub, on="relative").merge(off, on=["c", "official"])
        return rows[["o", "k"]].drop_duplicates().sort_values(["o", "k"]).reset_index(drop=True)

    def match_in_context(
        self,
        left: pd.DataFrame,
        right: pd.DataFrame,
        on: list[str],
        prior: float = CONTEXT_PRIOR,
        floor: float = 0.05,
        frequencies: pd.Series | None = None,
    ) -> pd.DataFrame:
        """Pairs of mentions that share the context columns ``on`` (e.g. the project) and a
        blocking key (person key, normalised name, pinyin, one deletion), scored with the
        context prior. ``left`` and ``right`` have ``key``, ``name`` and the resolver's
        attribute columns. Returns the pairs (l, r index) with confidence and reasons (written
        only for pairs that reach ``floor``); the same valid ID number is 1.0, two different
        valid numbers 0.0.

        A mention enters a name block only if a match there could reach ``floor`` at all
        (given how common the name is, the prior, and the most the other features could
        add): a 王芳 across a whole roster never can, so it costs nothing.

        ``frequencies``: name commonness to use instead of the screening's (the pre-award
        check passes the few names it compares, including names the data has never seen).
        """
        lp = prepare(left.reset_index(drop=True), with_pinyin=False)
        rp = prepare(right.reset_index(drop=True), with_pinyin=False)
        freq = self.name_commonness if frequencies is None else frequencies
        need = math.log2(floor / (1 - floor)) - math.log2(prior / (1 - prior))
        blocks = [_join(lp, rp, on, lp["key"], rp["key"])]
        lvs, rvs = _viable_levels(lp, freq, need, rp), _viable_levels(rp, freq, need, lp)
        for level in ("name_norm", "pinyin", "deletion"):
            lv, rv = lvs[level], rvs[level]
            if level == "deletion":
                lk = lp.loc[lv, "name_norm"].map(deletions).explode().dropna()
                rk = rp.loc[rv, "name_norm"].map(deletions).explode().dropna()
            elif level == "pinyin":
                lk, rk = pinyin_of(lp.loc[lv, "name_norm"]), pinyin_of(rp.loc[rv, "name_norm"])
            else:
                lk, rk = lp.loc[lv, level], rp.loc[rv, level]
            blocks.append(_join(lp, rp, on, lk, rk))
        pairs = pd.concat(blocks, ignore_index=True).drop_duplicates().reset_index(drop=True)
        if pairs.empty:
            return pairs.assign(confidence=[], reasons=[])
        # the reasons are written for the pairs that reach the floor: the callers keep no
        # pair below it
        return score_in_context(lp, rp, pairs, prior=prior, frequencies=freq, reasons_from=floor)

    @cached_property
    def holder_kinship(self) -> tuple[pd.DataFrame, dict[Any, tuple[int, int]]]:
        """The relatives within the legal categories of every role holder who appears in a
        kin link, among the role holders (org_relations and the pre-award check ask which
        holders are kin of which), expanded once, with each holder's rows' positions."""
        h = self.holders[in_index(self.holders["key"], self.linked_keys)].drop_duplicates("key")
        sexes = self.people["sex"].reindex(h["key"]).to_numpy()
        # org_relations asks only which holders are kin of which holders: the holders, and
        # the people named as a holder without an ID number is (a registry's 邹杰浩 may be
        # the 邹杰浩 the supplier table names bare; org_relations scores the pair)
        loose = self.holders.loc[~self.holders["id_valid"], "name_norm"].dropna().unique()
        named = self.people.index[self.people["name_norm"].isin(loose).to_numpy()]
        kin = self.kin_graph.expand(
            pd.DataFrame({"key": h["key"].to_numpy(), "sex": sexes}),
            max_same=MAX_BRIDGES,
            targets=pd.Index(h["key"]).union(pd.Index(named)),
        )
        kin = kin[kin["category"] != "本人"]
        kin = kin.sort_values("official", kind="stable").reset_index(drop=True)
        return kin, positions(kin["official"])

    def holder_kin_of(self, keys: Any) -> pd.DataFrame:
        kin, spans = self.holder_kinship
        found = [spans[k] for k in keys if k in spans]
        if not found:
            return kin.iloc[0:0]
        return kin.iloc[np.concatenate([np.arange(a, b) for a, b in found])]

    @cached_property
    def supplier_rows(self) -> dict[Any, list[int]]:
        """Row positions of each organisation in the supplier table."""
        rows: dict[Any, list[int]] = {}
        if "suppliers" in self.keyed:
            for i, org in enumerate(self.keyed["suppliers"]["org_key"]):
                rows.setdefault(org, []).append(i)
        return rows

    @cached_property
    def linked_keys(self) -> pd.Index:
        """Every person key at either end of a kin link or an identity bridge."""
        ends = [self.kin_links["src"], self.kin_links["dst"]]
        if len(self.bridges):
            ends += [self.bridges["src"], self.bridges["dst"]]
        # unique in order of appearance (a sorted union of object keys costs seconds)
        linked: pd.Index = pd.Index(pd.concat(ends, ignore_index=True).unique())
        return linked

    @cached_property
    def name_commonness(self) -> pd.Series:
        """How common each normalised name is, over the kin side and the role holders, each
        person counted once (:attr:`named_people`)."""
        return name_frequencies(self.named_people)

    @cached_property
    def named_people(self) -> pd.DataFrame:
        """One row (``name_norm``) per distinct person of the kin side and the role holders:
        the population a name's commonness is counted in. A legal representative who is also
        the shareholder and the manager, named in the supplier table and the people table,
        is one person, not four mentions: counted per row, the names of the very people the
        rules screen (those with many roles) would look several times commoner than they
        are, and a match on them weaker. A person is their key (an ID number where one is
        known); a holder without a number is one person per organisation and name."""
        h = self.holders
        holder_person = h["key"].where(
            h["id_valid"], h["org_key"].astype(str) + "|" + h["name_norm"].astype(str)
        )
        # a registry row's bare mention (reg:) is counted once per name, as one person: three
        # rows naming 李蓉翠 without a number are not three more 李蓉翠s
        keys = pd.Series(self.people.index.astype(str), index=self.people.index)
        person = keys.where(~keys.str.startswith("reg:"), "bare:" + self.people["name_norm"])
        both = pd.concat(
            [
                pd.DataFrame({"person": person.to_numpy(), "name_norm": self.people["name_norm"]}),
                pd.DataFrame({"person": holder_person, "name_norm": h["name_norm"]}),
            ],
            ignore_index=True,
        )
        return both.drop_duplicates(subset=["person", "name_norm"])[["name_norm"]].reset_index(
            drop=True
        )

    # ------------------------------------------------------------------ explaining
    def name_of(self, key: str) -> str:
        name = self._name_by_key.get(key)
        return str(name) if name is not None else key.split(":", 1)[-1]

    def kin_steps(
        self, official: str, nodes: tuple[str, ...], via: tuple[str, ...]
    ) -> list[EvidenceStep]:
        """The evidence rows of one expansion path: each hop with its term and source row."""
        steps: list[EvidenceStep] = []
        for a, b, link_id in zip(nodes[:-1], nodes[1:], via, strict=True):
            link = self.link_index[link_id]
            if link["code"] == SAME:
                reasons = "；".join(f"{r}（{v:+.1f}）" for r, v in (link["reasons"] or []))
                steps.append(
                    EvidenceStep(
                        kind="identity",
                        text=(
                            f"身份比对：{self.name_of(a)} 与 {self.name_of(b)} 疑似同一人，"
                            f"置信度{float(link['conf']):.2f}（{reasons}）"
                        ),
                        source=None,
                        data={"from": a, "to": b, "confidence": float(link["conf"])},
                    )
                )
                continue
            forward = link["src"] == a
            label = str(link["term"]) if forward else _inverse(str(link["code"]), link["src_sex"])
            table = "亲属申报" if link["table"] == "relatives" else "户籍/婚姻登记"
            text = f"{table}：{self.name_of(a)} —{label}→ {self.name_of(b)}"
            if not forward:
                text += f"（登记为 {self.name_of(b)} 的{link['term']}是 {self.name_of(a)}）"
            steps.append(
                EvidenceStep(
                    kind="kin",
                    text=text,
                    source=SourceRef(str(link["file"]), int(link["row"]), str(link["table"])),
                    data={"from": a, "to": b, "term": label, "code": link["code"]},
                )
            )
        return steps

    def kin_sentence(self, nodes: tuple[str, ...], via: tuple[str, ...]) -> str:
        parts = [self.name_of(nodes[0])]
        for a, b, link_id in zip(nodes[:-1], nodes[1:], via, strict=True):
            link = self.link_index[link_id]
            if link["code"] == SAME:
                parts.append(f" ≈ {self.name_of(b)}")
                continue
            label = (
                str(link["term"])
                if link["src"] == a
                else _inverse(str(link["code"]), link["src_sex"])
            )
            parts.append(f" —{label}→ {self.name_of(b)}")
        return "".join(parts)


def positions(keys: pd.Series) -> dict[Any, tuple[int, int]]:
    """For a sorted column, each value's (start, stop) row positions: a group's rows by
    slicing, without a groupby or a boolean mask over the whole frame."""
    values = keys.to_numpy()
    if len(values) == 0:
        return {}
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(values)]])
    return {values[a]: (int(a), int(b)) for a, b in zip(starts, stops, strict=True)}


def score_in_context(
    lp: pd.DataFrame,
    rp: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    prior: float,
    frequencies: pd.Series,
    reasons_from: float = 0.0,
) -> pd.DataFrame:
    """The resolver's score of candidate pairs (l, r) of prepared mentions, where the same
    ``id:`` key on both sides is the same valid ID number: 1.0, whatever the names.
    ``reasons_from``: as in :func:`score` (pairs below it keep no list of reasons)."""
    scored = score(lp, rp, pairs, prior=prior, frequencies=frequencies, reasons_from=reasons_from)
    same_key = lp["key"].to_numpy()[scored["l"]] == rp["key"].to_numpy()[scored["r"]]
    by_id = same_key & np.array(
        [str(k).startswith("id:") for k in lp["key"].to_numpy()[scored["l"]]], dtype=bool
    )
    if by_id.any():
        scored.loc[by_id, "confidence"] = 1.0
        scored.loc[by_id, "reasons"] = pd.Series(
            [[("身份证号相同", math.inf)]] * int(by_id.sum()),
            dtype=object,
            index=scored.index[by_id],
        )
    return scored


def _inverse(code: str, src_sex: Any) -> str:
    sex = src_sex if src_sex in ("男", "女") else None
    return describe(invert(parse_code(code), sex))


def normalised(name: Any) -> str | None:
    return None if name is None or pd.isna(name) else person_name(str(name))


def estimated_prior(
    left: pd.DataFrame, right: pd.DataFrame, on: list[str], guess: float, weight: float = 3.0
) -> float:
    """The share of (left, right) pairs in one context that are one person, measured where
    it can be: on the pairs whose both sides carry a valid ID number (as Splink estimates
    the match probability from deterministic rules), smoothed towards ``guess`` with the
    weight of ``weight`` matches. Ten thousand candidate pairs per true one in a city-wide
    roster, a few hundred in one project's panel: the data says which."""
    # one person once per context on each side (an official in three roles on one panel is
    # one candidate, not three): pairs and matches are both counted in distinct people
    lid = left.loc[left["id_valid"].astype(bool), [*on, "id_number"]].drop_duplicates()
    rid = right.loc[right["id_valid"].astype(bool), [*on, "id_number"]].drop_duplicates()
    if lid.empty or rid.empty:
        return guess
    ln = lid.groupby(on).size().rename("n_l")
    rn = rid.groupby(on).size().rename("n_r")
    both = pd.concat([ln, rn], axis=1, join="inner")
    pairs = float((both["n_l"] * both["n_r"]).sum())
    matches = len(lid.merge(rid, on=[*on, "id_number"]))
    return smoothed_prior(matches, pairs, guess, weight)


def in_index(values: Any, index: pd.Index) -> np.ndarray:
    """Which ``values`` are in the unique ``index``, looked up in the index's own hash table
    (built once and kept with it). ``isin`` would hash the whole index again on every call:
    50 ms for the million keys of a city's kin graph, in a check that has a few holders."""
    found: np.ndarray = index.get_indexer(pd.Index(values)) >= 0
    return found


def smoothed_prior(matches: int, pairs: float, guess: float, weight: float = 3.0) -> float:
    """The share of pairs that are one person, smoothed towards ``guess`` with the weight of
    ``weight`` matches."""
    return float((matches + weight) / (pairs + weight / guess))


def _join(
    lp: pd.DataFrame, rp: pd.DataFrame, on: list[str], lk: pd.Series, rk: pd.Series
) -> pd.DataFrame:
    """(l, r) pairs sharing the context and the blocking value."""
    lf = lp[on].join(lk.rename("b").dropna(), how="inner").reset_index(names="l")
    rf = rp[on].join(rk.rename("b").dropna(), how="inner").reset_index(names="r")
    return lf.merge(rf, on=[*on, "b"])[["l", "r"]]


def viable(
    m: pd.DataFrame, freq: pd.Series, level: str, need: float, other: pd.DataFrame | None = None
) -> pd.Series:
    """Rows whose best possible score at a name ``level`` reaches ``need`` bits: the name's
    weight at that level plus everything the row's other attributes could add against some
    row of ``other`` (a birth date counts only where the ID numbers cannot decide, a phone
    only where the other side has phones)."""
    return pd.Series(_headroom(m, freq, other) + _LEVEL_BITS[level] >= need, index=m.index)


def _viable_levels(
    m: pd.DataFrame, freq: pd.Series, need: float, other: pd.DataFrame | None = None
) -> dict[str, pd.Series]:
    """viable at every name level, the rows' names looked up once."""
    head = _headroom(m, freq, other)
    return {
        level: pd.Series(head + bits >= need, index=m.index) for level, bits in _LEVEL_BITS.items()
    }


def _level_bits() -> dict[str, float]:
    w = Weights()
    return {
        "name_norm": math.log2(w.name_exact_m),
        "pinyin": math.log2(w.name_pinyin_m) - w.name_pinyin_density_bits,
        "deletion": math.log2(w.name_edit_m) - w.name_edit_density_bits,
    }


_LEVEL_BITS = _level_bits()


def _headroom(m: pd.DataFrame, freq: pd.Series, other: pd.DataFrame | None) -> np.ndarray:
    """Each row's bits apart from the name level's m: -log2 of the name's frequency plus
    what the row's other attributes could add against some row of ``other``."""
    w = Weights()
    other = m if other is None else other
    u = m["name_norm"].map(freq).fillna(1e-9).to_numpy(dtype=float)
    has_birth = m["birth"].notna().to_numpy()
    no_id = ~m["id_valid"].fillna(False).astype(bool).to_numpy()
    other_birth = other["birth"].notna()
    other_birth_no_id = bool((other_birth & ~other["id_valid"].fillna(False).astype(bool)).any())
    birth_can = has_birth & ((no_id & bool(other_birth.any())) | other_birth_no_id)
    phone_can = m["phone"].notna().to_numpy() & bool(other["phone"].notna().any())
    bonus = np.full(len(m), math.log2(w.gender_same_m / 0.5))
    bonus += np.where(birth_can, math.log2(w.birth_same_m / w.birth_same_u), 0.0)
    bonus += np.where(phone_can, math.log2(w.phone_same_m / w.phone_same_u), 0.0)
    return np.asarray(bonus - np.log2(u), dtype=float)


def sex_neutral_codes(links: pd.DataFrame) -> pd.Series:
    """Each link's code, with the sex taken out of a one-step code whose term contradicts
    the sexes the ID numbers give (a registry row calling a woman's spouse 妻子, or a woman
    哥哥): the relation (spouse, parent, child, sibling, with the age) is what the row
    records and what the legal category turns on; read literally, the row would name an
    impossible relative and the link would silently vanish from every path."""
    codes = links["code"].astype(str)
    out = codes.copy()
    for code in codes.unique():
        try:
            path = parse_code(code)
        except (KeyError, ValueError):
            continue
        if len(path) != 1 or path[0].sex is None:
            continue
        step = path[0]
        at = codes == code
        dst = links["dst_sex"][at]
        bad = dst.notna() & (dst != step.sex)
        if step.kind == "spouse":
            src = links["src_sex"][at]
            bad |= src.notna() & (src == step.sex)
        if bad.any():
            neutral = Step(step.kind, None, step.age, step.fictive).fictive_code
            out[bad[bad].index] = neutral
    return out


def implied_births(birth: pd.Series, links: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The earliest and latest birth year of each person (``birth`` indexed by key) whose
    own birth date is missing, implied by the kin rows that tie him or her to someone whose
    birth date is known: a son declared by a father born in 1973 was born between 1986 and
    2038 (:func:`graph.kinship.birth_gap`). A row whose term stands for several paths allows
    any of them; several rows narrow the range; rows that contradict each other leave it
    open (NaN). Keys with a birth date of their own, or no such row, get NaN."""
    year = birth.dt.year.astype(float)
    nan = pd.Series(np.nan, index=birth.index)
    if links.empty or year.isna().all():
        return nan, nan.copy()
    codes = links["code"].astype(str)
    gaps = {c: birth_gap(c) or (-np.inf, np.inf) for c in codes.unique()}
    glo = codes.map(lambda c: gaps[c][0]).to_numpy(dtype=float)
    ghi = codes.map(lambda c: gaps[c][1]).to_numpy(dtype=float)
    sy = links["src"].map(year).to_numpy(dtype=float)
    dy = links["dst"].map(year).to_numpy(dtype=float)
    row = (links["table"].astype(str) + ":" + links["row"].astype(str)).to_numpy()
    # the relative (dst) from the speaker's year, the speaker (src) from the relative's
    to_dst = np.isnan(dy) & ~np.isnan(sy)
    to_src = np.isnan(sy) & ~np.isnan(dy)
    ranges = pd.concat(
        [
            pd.DataFrame(
                {
                    "key": links["dst"].to_numpy()[to_dst],
                    "row": row[to_dst],
                    "lo": (sy + glo)[to_dst],
                    "hi": (sy + ghi)[to_dst],
                }
            ),
            pd.DataFrame(
                {
                    "key": links["src"].to_numpy()[to_src],
                    "row": row[to_src],
                    "lo": (dy - ghi)[to_src],
                    "hi": (dy - glo)[to_src],
                }
            ),
        ],
        ignore_index=True,
    )
    if ranges.empty:
        return nan, nan.copy()
    # one row's alternatives: any of them; the rows together: all of them
    per_row = ranges.groupby(["key", "row"], sort=False).agg(lo=("lo", "min"), hi=("hi", "max"))
    per_key = per_row.groupby(level=0).agg(lo=("lo", "max"), hi=("hi", "min"))
    per_key = per_key[np.isfinite(per_key["lo"]) & np.isfinite(per_key["hi"])]
    per_key = per_key[per_key["lo"] <= per_key["hi"]]
    return per_key["lo"].reindex(birth.index), per_key["hi"].reindex(birth.index)


def kin_of(scr: Screening, officials: pd.DataFrame) -> pd.DataFrame:
    """For each row of ``officials`` (with ``person_key`` and any context columns), the
    official him- or herself (category 本人) and every relative within the legal categories,
    with the person attributes the resolver compares and the path (``nodes``, ``via``,
    ``conf``)."""
    return _with_attributes(
        scr, officials.merge(scr.kin_all, left_on="person_key", right_on="official")
    )


def _with_attributes(scr: Screening, rows: pd.DataFrame) -> pd.DataFrame:
    """Kin rows (a ``relative`` column) with the relative's attributes, as ``key``; rows of
    relatives without a name dropped."""
    attrs = scr.people.reindex(rows["relative"])[
        [
            "name",
            "id_number",
            "id_valid",
            "birth_date",
            "gender",
            "phone",
            "name_nfkc",
            "name_norm",
            "birth",
            "sex",
            "born_lo",
            "born_hi",
        ]
    ].reset_index(drop=True)
    out = pd.concat([rows.reset_index(drop=True), attrs], axis=1)
    out["key"] = out["relative"]
    out["id_valid"] = out["id_valid"].fillna(False).astype(bool)
    return out.dropna(subset=["name"])
