"""What the rules share beyond the data itself: identity guesses, kinship, kin in roles.

:class:`Screening` is built once per scan on :class:`~integrity.screening.tables.Tables` and
computed lazily, so a rule that needs none of it (over_cap) costs nothing, and rules that
need it share one computation:

- ``bridges``: identity links between kin-side keys that carry no shared ID number but that
  the resolver believes are one person (a declared wife 吴丽 and the registry's 吴丽), each
  with its confidence and reasons;
- ``kinship``: every official's relatives within the legal categories, by relational joins
  over kin links and bridges (graph.expand), each path with the product of its confidences;
- :meth:`Screening.kin_in_roles`: the officials' relatives believed to hold a role at an
  organisation met in one context, with the prior measured on the rows that carry ID
  numbers (the priors each rule used are kept in ``priors``);
- :meth:`Screening.match_in_context`: the resolver's scoring of pairs met in one context (a
  participant's relative and the winner's legal representative), at the namesake rate;
- ``holder_kinship``: the role holders' own relatives among the role holders, for
  organisation relations;
- :meth:`Screening.kin_steps`: a kin path as evidence rows, each hop with its source row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

import numpy as np
import pandas as pd

from graph.expand import EXPANSION_COLUMNS, SAME, KinGraph
from integrity.findings import EvidenceStep, SourceRef
from integrity.identity.addresses import places_with_firms, with_county
from integrity.identity.blocking import (
    context_pairs,
    deletion_codes,
    in_index,
    lowered_need,
    need_bits,
    viable_levels,
)
from integrity.identity.calibration import ROSTER
from integrity.identity.family import FamilyPlaces
from integrity.identity.mentions import NameShares, pinyin_of, prepare
from integrity.identity.priors import CONTEXT_PRIOR, smoothed_prior
from integrity.identity.scoring import score_in_context
from integrity.screening.bridges import bridges_among
from integrity.screening.held import registry_right
from integrity.screening.links import LinkLookup, inverse_term
from integrity.screening.registry import RosterCounts, as_other
from integrity.screening.spans import positions
from integrity.screening.tables import Tables

MAX_HOPS = 3  # kin links on one path: every legal category is reached within three
MAX_BRIDGES = 1  # identity links on one kin path: each is a guess, two in a row compound it
# a relative's attributes the resolver compares, as kin rows carry them
ATTRIBUTE_COLUMNS = (
    "name", "id_number", "id_valid", "birth_date", "gender", "phone", "name_nfkc", "name_norm",
    "birth", "sex", "born_lo", "born_hi",
)  # fmt: skip


@dataclass
class Screening(Tables):
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

    @cached_property
    def bridges(self) -> pd.DataFrame:
        """Identity links between kin-side keys without a shared valid ID number
        (:mod:`integrity.screening.bridges`)."""
        empty = self.kin_links.iloc[0:0]
        return bridges_among(self.people, self.population, self.name_commonness, empty)

    @cached_property
    def _links_by_id(self) -> pd.DataFrame:
        both = pd.concat([self.kin_links, self.bridges], ignore_index=True)
        return both.set_index("link_id", drop=False)

    @cached_property
    def link_index(self) -> LinkLookup:
        """link id -> the link's row (as a dict), looked up when a finding explains a path."""
        return LinkLookup(self._links_by_id)

    def build_lookups(self) -> None:
        """Build the lookups a finding's explanation reads (link rows, names by key) now,
        rather than in whichever rule asks first: before a split run forks, so that both
        processes share them instead of each building its own; and the namesake rate both
        halves' identity maps are chosen by."""
        _ = self.link_index, self._name_by_key, self.namesake_rate, self.shared_names

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
        if self.kin_engine is not None:
            return self.kin_engine.expand(
                officials, self.all_links, max_hops=MAX_HOPS, max_same=MAX_BRIDGES
            )
        return self.kin_graph.expand(officials, max_hops=MAX_HOPS, max_same=MAX_BRIDGES)

    @cached_property
    def all_links(self) -> pd.DataFrame:
        """The kin links and the identity bridges, as the expansion reads them."""
        links = pd.concat([self.kin_links, self.bridges], ignore_index=True)
        return links[["link_id", "src", "dst", "code", "src_sex", "dst_sex", "conf"]]

    @cached_property
    def kin_graph(self) -> KinGraph:
        """The kin links and the identity bridges as one graph, built once: the officials'
        kinship, the holders' and any other walk start from it."""
        return KinGraph(self.all_links)

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
        context: str = ROSTER,
        roster_wide: bool = False,
    ) -> pd.DataFrame:
        """Each (official or relative, role holder) pair met in one context and believed to
        be one person. ``officials``: rows with ``person_key`` and the context columns ``on``
        (and anything else, kept); ``orgs``: rows with ``org_key`` and the context columns.
        Returns the kin rows (kin_of) beside the holder's columns prefixed ``h_``, with
        ``match_conf`` (the identity match), ``reasons`` and ``confidence`` (kin path times
        identity match). ``context``: whose calibration map states the match, at this data's
        namesake rate (:data:`~integrity.identity.calibration.PANEL`: a project's decisions).
        ``roster_wide``: ``orgs`` is every organisation of the roster, in one context (a
        registry held elsewhere is then asked for its holders who meet the kin)."""
        context = self.stated_in(context)
        holders = self.holders[self.holders["role"].isin(roles)]
        right = orgs.drop_duplicates().merge(holders, on="org_key")
        right = right.rename(columns={"file": "h_file", "row": "h_row", "table": "h_table"})
        held_elsewhere = roster_wide and self.registry is not None
        has_kin = officials["person_key"].isin(self.kin_ids.index).any()
        if (right.empty and not held_elsewhere) or not has_kin:
            return pd.DataFrame()
        right = with_county(right, self.family_places)  # each company's county, where weighed
        more: RosterCounts | None = None
        freq = None
        if held_elsewhere:
            right, more, freq = self._with_registry(
                officials, orgs, right, on, roles, prior, floor, context
            )
        if right.empty:
            return pd.DataFrame()
        prior = self._kin_prior(officials, right, on, prior, more.ids if more else 0)
        if label is not None:
            self.priors[label] = prior
        other = as_other(right, more)
        # only the relatives who could meet a holder in some block are materialised (a
        # screening's officials have a million relatives; a few thousand share a name key
        # with a holder)
        meeting = self._meeting(officials, right, on, prior, floor, context, other)
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
        matched = self.match_in_context(
            left,
            right,
            on=on,
            prior=prior,
            floor=floor,
            frequencies=freq,
            context=context,
            other=other,
        )
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

    def _with_registry(
        self,
        officials: pd.DataFrame,
        orgs: pd.DataFrame,
        right: pd.DataFrame,
        on: list[str],
        roles: tuple[str, ...],
        guess: float,
        floor: float,
        context: str,
    ) -> tuple[pd.DataFrame, RosterCounts, pd.Series]:
        """``right`` with the registry's holders who meet the officials' relatives
        (:func:`~integrity.screening.held.registry_right`), what the registry's other
        holders add to the counts, and the names' commonness."""
        assert self.registry is not None
        kin = self.kin_all
        relatives = kin.loc[kin["official"].isin(officials["person_key"]), "relative"].unique()
        lift = self.family_places.lift_of.rename("fam_lift")  # what held's blocking lowers
        people = self.people.reindex(pd.Index(relatives)).join(lift)
        held = registry_right(
            self.registry,
            right,
            people=people[people["name"].notna()],
            context=(orgs if len(orgs) else officials)[on].head(1),
            roles=roles,
            commonness=self.name_commonness,
            shares=NameShares.of(self.named_people["name_norm"], more=self.registry_names),
            prior_of=lambda r, more_ids: self._kin_prior(officials, r, on, guess, more_ids),
            floor=floor,
            stated_in=context,
            born_by=self.adult_born_by,
        )
        return held.right, held.more, held.frequencies

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
    def family_places(self) -> FamilyPlaces:
        """The families' places and their companies' counties (identity.addresses)."""
        firms = self.keyed.get("suppliers")
        return places_with_firms(self.kin_ids, self.kin_all, self.people, self.holders, firms)

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
        self,
        officials: pd.DataFrame,
        right: pd.DataFrame,
        on: list[str],
        guess: float,
        more_ids: int = 0,
    ) -> float:
        """:func:`estimated_prior` of the officials' kin rows against ``right``, counted
        without materialising the kin rows: per context, the number of relatives with a
        valid ID number, and the (context, number) pairs the two sides share. ``more_ids``:
        distinct valid numbers of the one context's holders held elsewhere (a registry)."""
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
        rn = (rid.groupby(on).size() + more_ids).rename("n_r")
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
        stated_in: str = ROSTER,
        other: pd.DataFrame | None = None,
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
        lift = self.family_places.lift_of.reindex(people.index).fillna(0.0).to_numpy()
        need = lowered_need(prior, floor, stated_in, lift)
        meets = [
            pd.DataFrame({"relative": people.index, "b": people.index}).merge(
                pd.DataFrame({"c": rp["c"], "b": rp["key"]}), on="b"
            )
        ]
        # the other side's names once each, and their keys only where ours has the key
        theirs = rp[["c", "name_norm"]].dropna().drop_duplicates()
        distinct = pd.Series(theirs["name_norm"].unique())
        levels = viable_levels(people, self.name_commonness, need, rp if other is None else other)
        for level in ("name", "pinyin", "edit"):
            reachable = levels[level].to_numpy()
            names = people.loc[reachable, "name_norm"]
            if names.empty:
                continue
            if level == "edit":
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
        context: str = ROSTER,
        other: pd.DataFrame | None = None,
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
        ``other``: the right side as the left rows' viability sees it
        (:func:`~integrity.screening.registry.as_other`), where ``right`` is part of it.
        """
        context = self.stated_in(context)
        lp = prepare(left.reset_index(drop=True), with_pinyin=False)
        rp = prepare(right.reset_index(drop=True), with_pinyin=False)
        freq = self.name_commonness if frequencies is None else frequencies
        need = need_bits(prior, floor, context)
        lowered = partial(lowered_need, prior, floor, context)
        pairs = context_pairs(lp, rp, on, freq, need, other, lowered)
        if pairs.empty:
            return pairs.assign(confidence=[], reasons=[])
        # the reasons are written for the pairs that reach the floor: the callers keep no
        # pair below it
        return score_in_context(
            lp, rp, pairs, prior=prior, frequencies=freq, reasons_from=floor, context=context,
            shared=self.shared_names,
        )  # fmt: skip

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
    def linked_keys(self) -> pd.Index:
        """Every person key at either end of a kin link or an identity bridge."""
        ends = [self.kin_links["src"], self.kin_links["dst"]]
        if len(self.bridges):
            ends += [self.bridges["src"], self.bridges["dst"]]
        # unique in order of appearance (a sorted union of object keys costs seconds)
        linked: pd.Index = pd.Index(pd.concat(ends, ignore_index=True).unique())
        return linked

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
            label = (
                str(link["term"]) if forward else inverse_term(str(link["code"]), link["src_sex"])
            )
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
                else inverse_term(str(link["code"]), link["src_sex"])
            )
            parts.append(f" —{label}→ {self.name_of(b)}")
        return "".join(parts)


def kin_of(scr: Screening, officials: pd.DataFrame) -> pd.DataFrame:
    """For each row of ``officials`` (with ``person_key`` and any context columns), the
    official him- or herself (category 本人) and every relative within the legal categories,
    with the attributes the resolver compares and the path (``nodes``, ``via``, ``conf``)."""
    return _with_attributes(
        scr, officials.merge(scr.kin_all, left_on="person_key", right_on="official")
    )


def _with_attributes(scr: Screening, rows: pd.DataFrame) -> pd.DataFrame:
    """Kin rows (a ``relative`` column) with the relative's attributes, as ``key``, and the
    family's places (identity.family); rows of relatives without a name dropped."""
    attrs = scr.people.reindex(rows["relative"])[list(ATTRIBUTE_COLUMNS)].reset_index(drop=True)
    family = scr.family_places.columns(rows["official"])
    out = pd.concat([rows.reset_index(drop=True), attrs, family], axis=1)
    out["key"] = out["relative"]
    out["id_valid"] = out["id_valid"].fillna(False).astype(bool)
    return out.dropna(subset=["name"])
