"""Which suppliers could be related, known in advance: the pre-award check runs
org_relations' full comparison only on pairs the index says could be related.

For every organisation the index keeps, as sets: its holders' person keys, the name keys the
resolver blocks on of holders without a valid ID number whose name could decide alone, the
holders met in kin links and their relatives, the contacts. A pair that shares nothing of
these cannot be related by any of org_relations' reasons (same person, kin, contact).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from integrity.findings import LEAD_THRESHOLD
from integrity.identity.blocking import (
    UNCOUNTED_SHARE,
    birth_bits,
    deletions,
    gender_bits,
    level_bits,
    need_bits,
    rarity_bits,
)
from integrity.identity.names import pinyin_key
from integrity.identity.scoring import SCORED_COLUMNS, rows_at, score_records_in_context
from integrity.screening.kin import Screening
from integrity.screening.org_relations import contact_key, decisive_bare, org_relations


def name_keys(name: Any) -> frozenset[str]:
    """The keys the resolver blocks a normalised name on: the name, its pinyin (pypinyin,
    cached per name) and its one-character substitutions."""
    if not isinstance(name, str):
        return frozenset()
    return frozenset({name, f"py:{pinyin_key(name)}", *deletions(name)})


# the usual answer, made once (callers only read it)
NO_RELATIONS = pd.DataFrame(columns=["a", "b", "kind", "label", "confidence", "evidence"])


class RelationsIndex:
    """Mixin of the check index: what could relate two organisations. The index provides
    ``scr``, ``holders`` (sorted by organisation), ``holders_of``, ``commonness`` and the
    organisation priors before ``_index_relations`` runs."""

    scr: Screening
    commonness: pd.Series
    org_priors: dict[str, float]
    org_prior_loosest: float

    def holders_of(self, org_key: str | None) -> pd.DataFrame:
        raise NotImplementedError

    def _index_relations(self, t: dict[str, pd.DataFrame], holders: pd.DataFrame) -> None:
        """What could relate two organisations (org_relations' three reasons), as sets, so
        that a check runs the full comparison only on pairs that could be related: each
        holder's person key, the name keys the resolver blocks on (normalised name, pinyin,
        one-character substitutions) of holders without a valid ID number whose name could
        decide on its own, the holders met in kin links, the contacts."""
        linked = set(self.scr.linked_keys)
        need = need_bits(self.org_prior_loosest, 0.5)
        birth = holders["birth"].notna().to_numpy()
        rarity = rarity_bits(holders["name_norm"], self.commonness, UNCOUNTED_SHARE)
        bits = gender_bits() + np.where(birth, birth_bits(), 0.0) + rarity
        can = bits + level_bits()["name"] >= need
        self.org_keys: dict[str, set[str]] = {}
        self.org_linked: dict[str, set[str]] = {}
        self.org_loose_names: dict[str, set[str]] = {}
        self.org_bare_names: dict[str, set[str]] = {}
        self.org_names_all: dict[str, set[str]] = {}
        for org, key, name, valid, ok in zip(
            holders["org_key"].astype(str),
            holders["key"].astype(str),
            holders["name_norm"],
            holders["id_valid"].astype(bool),
            can,
            strict=True,
        ):
            self.org_keys.setdefault(org, set()).add(key)
            if key in linked:
                self.org_linked.setdefault(org, set()).add(key)
            names = name_keys(name)
            if not names:
                continue
            self.org_names_all.setdefault(org, set()).update(names)
            if ok and not valid:
                self.org_loose_names.setdefault(org, set()).update(names)
                # a bare holder whose name could decide: a relative of the other's holder
                # by that name may be him or her (org_relations' _kin_by_name)
                self.org_bare_names.setdefault(org, set()).add(str(name))
        # kin between holders of two organisations: the relatives of each holder who is in a
        # kin link (the screening's holder kinship, expanded once)
        self._index_holder_kin(holders)
        self.org_contacts: dict[str, set[str]] = {}
        if "suppliers" in t:
            su = t["suppliers"]
            for what in ("phone", "email", "address"):
                if what not in su:
                    continue
                for org, value in zip(su["org_key"], su[what], strict=True):
                    contact = contact_key(what, value)
                    if contact is not None and isinstance(org, str):
                        self.org_contacts.setdefault(org, set()).add(f"{what}:{contact}")

    def _index_holder_kin(self, holders: pd.DataFrame) -> None:
        """Kin between holders of two organisations: the relatives of each holder who is in
        a kin link (the screening's holder kinship, expanded once); the names of relatives
        who hold no role under their own key, and of holders without a valid ID number (a
        relative may be such a holder: org_relations scores the pair)."""
        kin, _ = self.scr.holder_kinship
        rel_of: dict[str, set[str]] = {}
        for official, relative in zip(
            kin["official"].astype(str), kin["relative"].astype(str), strict=True
        ):
            rel_of.setdefault(official, set()).add(relative)
        self.org_kin: dict[str, set[str]] = {}
        self.org_kin_names: dict[str, set[str]] = {}
        holder_keys = set(holders["key"].astype(str))
        name_of = self.scr.people["name_norm"]
        for org, keys in self.org_linked.items():
            found = set().union(*(rel_of.get(k, set()) for k in keys))
            if not found:
                continue
            self.org_kin[org] = found
            names = {str(name_of[k]) for k in found - holder_keys if k in name_of.index}
            if names:
                self.org_kin_names[org] = names
        # the names of the relatives of people named like a bare holder whose name could
        # decide (the register's couple 陈晶晶 —丈夫→ 张飞杰, each named bare at one of two
        # suppliers: _kin_both_bare), walked once
        strong = set(decisive_bare(holders, self.commonness, self.org_prior_loosest)["name_norm"])
        among = self.scr.named(strong)
        loose = self.scr.kin_among(among, among)
        by_name: dict[str, set[str]] = {}
        for a, b in zip(
            name_of.reindex(loose["official"]).to_numpy(),
            name_of.reindex(loose["relative"]).to_numpy(),
            strict=True,
        ):
            if isinstance(a, str) and isinstance(b, str):
                by_name.setdefault(a, set()).add(b)
        self.org_bare_kin_names: dict[str, set[str]] = {}
        for org, bare in self.org_bare_names.items():
            met = set().union(*(by_name.get(n, set()) for n in bare))
            if met:
                self.org_bare_kin_names[org] = met

    def maybe_related(self, a: str, b: str) -> bool:
        """Could org_relations find a reason for this pair? (:meth:`possible_kinds`)"""
        return bool(self.possible_kinds(a, b))

    def possible_kinds(self, a: str, b: str) -> frozenset[str]:
        """The reasons org_relations could find for this pair: ``same_person`` (a shared
        person key, or a shared name that could decide on its own: someone without a valid ID
        number on one side), ``kin`` (holders who are kin within the legal categories, a
        holder's relative named as a holder of the other without a number, or two holders
        without numbers named like a registered pair of kin) and ``contact`` (a shared phone,
        e-mail or address to the room)."""
        ka, kb = self.org_keys.get(a, set()), self.org_keys.get(b, set())
        none: set[str] = set()
        kinds: set[str] = set()
        if self.org_contacts.get(a, none) & self.org_contacts.get(b, none):
            kinds.add("contact")
        if self.org_kin.get(a, none) & kb or self.org_kin.get(b, none) & ka:
            kinds.add("kin")
        # a name on one side met among the other's holders or their relatives' names
        for x, y in ((a, b), (b, a)):
            bare = self.org_bare_names.get(y, none)
            if self.org_kin_names.get(x, none) & bare or self._bare_kin(x, y):
                kinds.add("kin")
        if ka & kb:
            kinds.add("same_person")
        else:
            shared = self.org_loose_names.get(a, set()) & self.org_names_all.get(b, set())
            shared |= self.org_loose_names.get(b, set()) & self.org_names_all.get(a, set())
            if shared and self._same_name_decides(a, b):
                kinds.add("same_person")
        return frozenset(kinds)

    def _bare_kin(self, a: str, b: str) -> bool:
        """Could a bare holder of ``a`` and one of ``b`` be named like a registered pair of
        kin (org_relations' two-bare-names relation)?"""
        return bool(self.org_bare_kin_names.get(a, set()) & self.org_bare_names.get(b, set()))

    def _same_name_decides(self, a: str, b: str) -> bool:
        """Would the resolver call some holder of ``a`` and some holder of ``b`` one person
        (confidence 0.5 in the context of two organisations, as org_relations asks)? Scored
        on the few pairs that share a name key, not through org_relations' joins: as records,
        with the arithmetic :func:`score_in_context` applies to a few pairs (its frames cost
        a check that reaches here 5-8 ms)."""
        ha, hb = self.holders_of(a), self.holders_of(b)
        kb = [name_keys(n) for n in hb["name_norm"]]
        pairs = [
            (i, j)
            for i, ki in enumerate(name_keys(n) for n in ha["name_norm"])
            for j, kj in enumerate(kb)
            if ki & kj
        ]
        if not pairs:
            return False
        left = np.array([i for i, _ in pairs], dtype=np.int64)
        right = np.array([j for _, j in pairs], dtype=np.int64)
        keys_a, keys_b = ha["key"].to_numpy(), hb["key"].to_numpy()
        confidence, _ = score_records_in_context(
            rows_at(ha, left, SCORED_COLUMNS),
            rows_at(hb, right, SCORED_COLUMNS),
            [(keys_a[i], keys_b[j]) for i, j in pairs],
            prior=self.org_prior_loosest,
            frequencies=self.commonness,
            # the share of a name not counted, as score() takes it for these two frames
            floor=1 / max(len(ha) + len(hb), 1),
        )
        return any(c >= LEAD_THRESHOLD for c in confidence)

    def related(self, pairs: list[tuple[str, str]], rule: str) -> pd.DataFrame:
        """org_relations on the pairs that could be related, with their holders only,
        weighed with the prior ``rule``'s batch run measured."""
        possible = {(a, b): self.possible_kinds(a, b) for a, b in pairs if a != b}
        pairs = [pair for pair, kinds in possible.items() if kinds]
        if not pairs:
            return NO_RELATIONS
        orgs = list(dict.fromkeys(o for pair in pairs for o in pair))
        holders = pd.concat([self.holders_of(o) for o in orgs], ignore_index=True)
        return org_relations(
            self.scr,
            pd.DataFrame(pairs, columns=["a", "b"]),
            holders,
            prior=self.org_priors[rule],
            # the walk only where the index says two bare names could be a registered pair
            both_bare=any(self._bare_kin(a, b) or self._bare_kin(b, a) for a, b in pairs),
            # only the reasons the index says some pair could have (the scoring of the others
            # is tens of milliseconds of small frames for nothing)
            kinds=frozenset().union(*(possible[pair] for pair in pairs)),
        )
