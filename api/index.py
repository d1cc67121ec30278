"""The pre-award check, answered from an in-memory index of the latest screening.

When a screening finishes, :class:`CheckIndex` keeps what the batch path computed — the
identity keys, every official's relatives within the legal categories (with paths and
confidences), every role holder of every organisation, the catalogue, the awarded projects
— sorted and positioned so that one check reads only the rows of its own panel and supplier.
Nothing is rebuilt per request; the identity matching is the batch resolver's
(Screening.match_in_context) run on those few rows, so a check and the next screening agree.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from integrity.evidence import identity_step, policy_steps, role_step, text
from integrity.findings import EvidenceStep, yuan_wan
from integrity.ids import ric_normalise, uscc_normalise
from integrity.names import org_name, person_name, pinyin_key, split_surname
from integrity.policy import Profile
from integrity.resolve import NameShares, Weights, deletions, pinyin_of, prepare
from integrity.rules.avoidance import ROLE_ORDER, AvoidanceSettings
from integrity.catalogue import Catalogue
from integrity.rules.off_catalogue import OffCatalogueSettings
from integrity.rules.split_bid import SplitBidSettings, caps_of, pieces, subject
from integrity.scan import ScanResult
from integrity.screen import (
    CONTEXT_PRIOR,
    Screening,
    contact_key,
    decisive_bare,
    kin_of,
    org_relations,
    positions,
    score_in_context,
)

PIECE_COLUMNS = (
    "project_id",
    "project_name",
    "amount",
    "_when",
    "_subject",
    "org_key",
    "supplier_name",
    "project_file",
    "project_row",
)


def name_keys(name: Any) -> frozenset[str]:
    """The keys the resolver blocks a normalised name on: the name, its pinyin (pypinyin,
    cached per name) and its one-character substitutions."""
    if not isinstance(name, str):
        return frozenset()
    return frozenset({name, f"py:{pinyin_key(name)}", *deletions(name)})


def _steps(steps: list[Any]) -> list[dict[str, Any]]:
    return [s.to_dict() for s in steps]


@dataclass
class Resolved:
    """How the request's supplier was found in the screened data."""

    org_key: str | None
    name: str | None
    basis: str  # 统一社会信用代码, 规范化名称, 未找到
    notes: list[str] = field(default_factory=list)


class CheckIndex:
    """Everything a pre-award check reads, from one finished screening."""

    def __init__(self, result: ScanResult, *, screening_id: str, dataset_id: str) -> None:
        began = time.perf_counter()
        if result.context is None:
            raise ValueError("the scan result carries no screening context")
        self.screening_id = screening_id
        self.dataset_id = dataset_id
        self.profile: Profile = result.profile
        scr: Screening = result.context.screening
        self.scr = scr
        self._index_staff(scr.keyed["staff"])
        self._index_kin(scr)
        holders = scr.holders.sort_values("org_key", kind="stable").reset_index(drop=True)
        self.holders = holders
        self.holder_pos = positions(holders["org_key"])
        self.commonness = scr.name_commonness
        self.shares = NameShares.of(scr.named_people["name_norm"])
        self._index_orgs(scr.keyed, holders)
        self._index_projects(result)
        # the relationship graph for the graph endpoints, built on their first call
        self._graph_view: Any = None
        # warm what the first check would otherwise pay for (the link lookup, pinyin, the
        # resolver's scoring on a pair)
        _ = scr.link_index
        if self.staff and len(self.holders):
            first = next(iter(self.staff.values()))
            self.check(
                {
                    "supplier": {"name": str(self.holders["org_name"].iloc[0])},
                    "panel": [{"staff_id": str(first["staff_id"])}],
                    "project": {"category": "服务类", "amount": 1.0, "date": "2024-01-01"},
                }
            )
        self.build_seconds = round(time.perf_counter() - began, 3)

    def _index_staff(self, staff: pd.DataFrame) -> None:
        cols = ("staff_id", "name", "person_key", "street", "community", "position")
        self.staff = {
            str(r["staff_id"]): r for r in staff[[c for c in cols if c in staff]].to_dict("records")
        }
        self.staff_by_name: dict[str, list[str]] = {}
        for sid, r in self.staff.items():
            self.staff_by_name.setdefault(person_name(str(r["name"])), []).append(sid)

    def _index_kin(self, scr: Screening) -> None:
        officials = scr.keyed["staff"][["person_key"]].drop_duplicates()
        kin = kin_of(scr, officials).sort_values("official", kind="stable")
        kin = kin.reset_index(drop=True)
        kin["pinyin"] = pinyin_of(kin["name_norm"])
        self.kin = kin
        self.kin_pos = positions(kin["official"])
        # the blocking columns as arrays: a check finds its candidate pairs with a few
        # vectorised comparisons on its panel's rows, no joins
        self._kin_key = kin["key"].astype(str).to_numpy()
        self._kin_name = kin["name_norm"].fillna("").astype(str).to_numpy()
        self._kin_pinyin = kin["pinyin"].fillna("").astype(str).to_numpy()
        self._kin_len = np.fromiter((len(n) for n in self._kin_name), dtype=np.int16)
        self._kin_u = kin["name_norm"].map(scr.name_commonness).fillna(1e-9).to_numpy(dtype=float)
        self._kin_birth = kin["birth"].notna().to_numpy()
        self._kin_phone = kin["phone"].notna().to_numpy()
        self.avoidance_prior = scr.priors.get("avoidance", CONTEXT_PRIOR)
        # the batch's measured share of kin or one person among the holder pairs of
        # suppliers asked about together, per rule (org_relations): the check weighs its few
        # pairs the same way; the pre-filter lets through whatever the larger could find
        self.org_priors = {
            rule: scr.priors.get(rule, CONTEXT_PRIOR) for rule in ("collusive_quotes", "split_bid")
        }
        self.org_prior_loosest = max(self.org_priors.values())

    def _index_orgs(self, t: dict[str, pd.DataFrame], holders: pd.DataFrame) -> None:
        """Organisations by USCC and by name core; the catalogue."""
        self.org_names: dict[str, str] = {}
        self.orgs_by_core: dict[str, set[str]] = {}
        if "suppliers" in t:
            su = t["suppliers"]
            for key, name in zip(su["org_key"], su["supplier_name"], strict=True):
                if pd.isna(key) or pd.isna(name):
                    continue
                self.org_names.setdefault(str(key), str(name))
                self.orgs_by_core.setdefault(org_name(str(name)), set()).add(str(key))
        for key, name in zip(holders["org_key"], holders["org_name"], strict=True):
            self.org_names.setdefault(str(key), str(name))
        self.catalogue = Catalogue.of(t["catalogue"]) if "catalogue" in t else None
        self._index_relations(t, holders)

    def _index_relations(self, t: dict[str, pd.DataFrame], holders: pd.DataFrame) -> None:
        """What could relate two organisations (org_relations' three reasons), as sets, so
        that a check runs the full comparison only on pairs that could be related: each
        holder's person key, the name keys the resolver blocks on (normalised name, pinyin,
        one-character substitutions) of holders without a valid ID number whose name could
        decide on its own, the holders met in kin links, the contacts."""
        linked = set(self.scr.linked_keys)
        w = Weights()
        need = -math.log2(self.org_prior_loosest / (1 - self.org_prior_loosest))  # 0.5
        u = holders["name_norm"].map(self.commonness).fillna(1e-9).to_numpy(dtype=float)
        birth = holders["birth"].notna().to_numpy()
        bits = np.log2(w.name_exact_m / u) + math.log2(w.gender_same_m / 0.5)
        can = bits + np.where(birth, math.log2(w.birth_same_m / w.birth_same_u), 0.0) >= need
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

    def _index_projects(self, result: ScanResult) -> None:
        """Awarded projects under their cap (split_bid's pieces), grouped by place,
        category and year."""
        t = self.scr.keyed
        self.caps: dict[str, float] = {}
        # each group's pieces as plain records, by date
        self.pieces: dict[tuple[str, str, str, int], list[dict[str, Any]]] | None = None
        self.split_settings = self._settings("split_bid", SplitBidSettings)
        if "projects" in t and self.split_settings is not None:
            self.caps = caps_of(self.profile, self.split_settings)
            found = pieces(t["projects"], self.caps, self.split_settings) if self.caps else None
            if found is not None:
                self.pieces = {}
                for place_col in self.split_settings.scope:
                    if place_col not in found:
                        continue
                    groups = found.dropna(subset=[place_col]).groupby(
                        [place_col, "project_category", "_year"]
                    )
                    for (place, category, year), g in groups:
                        key = (place_col, str(place), str(category), int(str(year)))
                        cols = [c for c in PIECE_COLUMNS if c in g]
                        records = g.sort_values("_when")[cols].to_dict("records")
                        self.pieces[key] = [{str(k): v for k, v in r.items()} for r in records]
        if not self.caps:
            over = self.profile.settings("over_cap")
            self.caps = {str(k): float(v) for k, v in (getattr(over, "caps", {}) or {}).items()}

    def _settings(self, code: str, model: type[Any]) -> Any:
        settings = self.profile.settings(code)
        return settings if isinstance(settings, model) else None

    # ------------------------------------------------------------------ lookups
    def resolve_supplier(self, name: str | None, uscc: str | None) -> Resolved:
        notes: list[str] = []
        if uscc:
            code, problem = uscc_normalise(uscc)
            if problem is None:
                key = f"uscc:{code}"
                known = key in self.holder_pos or key in self.org_names
                if name:
                    others = self.orgs_by_core.get(org_name(name), set()) - {key}
                    coded = sorted(o for o in others if o.startswith("uscc:"))
                    if coded:
                        notes.append(
                            f"名称「{name}」在数据中属于统一社会信用代码不同的单位"
                            f"（{'、'.join(c[5:] for c in coded)}），请核实是否冒用 / the name "
                            "belongs to a company with another USCC in the data"
                        )
                if known:
                    return Resolved(key, self.org_names.get(key, name), "统一社会信用代码", notes)
                notes.append("该统一社会信用代码不在本次筛查数据中 / USCC not in the screened data")
                return Resolved(key, name, "未找到", notes)
            notes.append(
                f"统一社会信用代码「{uscc}」校验不通过（{problem}），按名称查找 / "
                f"the USCC fails its check ({problem}); looked up by name"
            )
        if name:
            keys = sorted(self.orgs_by_core.get(org_name(name), set()))
            if len(keys) == 1:
                return Resolved(keys[0], self.org_names.get(keys[0], name), "规范化名称", notes)
            if len(keys) > 1:
                notes.append(
                    f"名称「{name}」对应多个单位（{len(keys)}个，统一社会信用代码不同），"
                    "请提供统一社会信用代码 / the name matches several companies; give the USCC"
                )
                return Resolved(None, name, "名称不唯一", notes)
        notes.append("该单位不在本次筛查数据中 / supplier not in the screened data")
        return Resolved(None, name, "未找到", notes)

    def panel_member(self, given: dict[str, Any]) -> dict[str, Any]:
        sid = text(given.get("staff_id"))
        name = text(given.get("name"))
        if sid is not None:
            r = self.staff.get(sid)
            if r is None:
                return {"given": sid, "staff_id": sid, "found": False, "note": "工号不在人员表中"}
            return {"given": sid, "found": True, **self._staff_view(sid)}
        if name is not None:
            ids = self.staff_by_name.get(person_name(name), [])
            if len(ids) == 1:
                return {"given": name, "found": True, **self._staff_view(ids[0])}
            note = "人员表中无此姓名" if not ids else f"人员表中同名{len(ids)}人，请给出工号"
            return {"given": name, "found": False, "note": note, "candidates": ids[:10]}
        return {"given": "", "found": False, "note": "未给出工号或姓名"}

    def _staff_view(self, sid: str) -> dict[str, Any]:
        r = self.staff[sid]
        return {
            "staff_id": sid,
            "name": str(r["name"]),
            "street": text(r.get("street")),
            "community": text(r.get("community")),
            "person_key": str(r["person_key"]),
        }

    def holders_of(self, org_key: str | None) -> pd.DataFrame:
        pos = self.holder_pos.get(org_key) if org_key else None
        if pos is None:
            return self.holders.iloc[0:0]
        return self.holders.iloc[pos[0] : pos[1]]

    def kinpositions(self, person_keys: list[str]) -> np.ndarray:
        spans = [self.kin_pos[k] for k in dict.fromkeys(person_keys) if k in self.kin_pos]
        if not spans:
            return np.empty(0, dtype=np.int64)
        return np.concatenate([np.arange(a, b) for a, b in spans])

    def candidates(
        self, rows: np.ndarray, right: pd.DataFrame, *, prior: float, floor: float
    ) -> pd.DataFrame:
        """(l, r) pairs of kin rows (positions ``rows``) and holders that share a blocking
        key as the batch blocks them — the person key, the normalised name, its pinyin, or
        the name with one character substituted (names of three characters or more) — and
        whose best possible score at that key could reach ``floor`` (as the batch's
        viability pruning: a shared 王芳 with nothing else to compare never can)."""
        w = Weights()
        need = math.log2(floor / (1 - floor)) - math.log2(prior / (1 - prior))
        keys, names = self._kin_key[rows], self._kin_name[rows]
        pinyins, lengths = self._kin_pinyin[rows], self._kin_len[rows]
        u = self._kin_u[rows]
        rnames = [str(n) if isinstance(n, str) else "" for n in right["name_norm"]]
        rbirth = (
            right["birth"].notna().to_numpy() if "birth" in right else np.zeros(len(right), bool)
        )
        rphone = (
            right["phone"].notna().to_numpy() if "phone" in right else np.zeros(len(right), bool)
        )
        edits = process.cdist(
            list(names), rnames, scorer=Levenshtein.distance, score_cutoff=1, dtype=np.int32
        )
        gender = math.log2(w.gender_same_m / 0.5)
        birth = math.log2(w.birth_same_m / w.birth_same_u)
        phone = math.log2(w.phone_same_m / w.phone_same_u)
        found: list[tuple[np.ndarray, int]] = []
        for j, (key, name) in enumerate(zip(right["key"].astype(str), rnames, strict=True)):
            hit = keys == key
            if name:
                bonus = gender + np.where(self._kin_birth[rows] & rbirth[j], birth, 0.0)
                bonus = bonus + np.where(self._kin_phone[rows] & rphone[j], phone, 0.0)
                surname = split_surname(name)[0]
                exact = (names == name) & (np.log2(w.name_exact_m / u) + bonus >= need)
                py_bits = np.log2(w.name_pinyin_m / u) - w.name_pinyin_density_bits + bonus
                same_py = (pinyins == pinyin_key(name)) & ~(names == name)
                if same_py.any():
                    other = np.array([split_surname(n)[0] != surname for n in names], dtype=bool)
                    py_bits = py_bits - np.where(other, w.name_surname_homophone_bits, 0.0)
                hit |= exact | (same_py & (py_bits >= need))
                if len(name) >= 3:
                    edit_bits = np.log2(w.name_edit_m / u) - w.name_edit_density_bits + bonus
                    hit |= (edits[:, j] == 1) & (lengths == len(name)) & (edit_bits >= need)
            nz = np.flatnonzero(hit)
            if len(nz):
                found.append((nz, j))
        if not found:
            return pd.DataFrame({"l": [], "r": []}, dtype=np.int64)
        return pd.DataFrame(
            {
                "l": np.concatenate([nz for nz, _ in found]),
                "r": np.concatenate([np.full(len(nz), j) for nz, j in found]),
            }
        )

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
        on the few pairs that share a name key, not through org_relations' joins."""
        ha, hb = (
            self.holders_of(a).reset_index(drop=True),
            self.holders_of(b).reset_index(drop=True),
        )

        kb = [name_keys(n) for n in hb["name_norm"]]
        pairs = [
            (i, j)
            for i, ki in enumerate(name_keys(n) for n in ha["name_norm"])
            for j, kj in enumerate(kb)
            if ki & kj
        ]
        if not pairs:
            return False
        frame = pd.DataFrame(pairs, columns=["l", "r"])
        scored = score_in_context(
            ha, hb, frame, prior=self.org_prior_loosest, frequencies=self.commonness
        )
        return bool((scored["confidence"] >= 0.5).any())

    def relations(self, pairs: list[tuple[str, str]], rule: str) -> pd.DataFrame:
        """org_relations on the pairs that could be related, with their holders only,
        weighed with the prior ``rule``'s batch run measured."""
        possible = {(a, b): self.possible_kinds(a, b) for a, b in pairs if a != b}
        pairs = [pair for pair, kinds in possible.items() if kinds]
        if not pairs:
            return pd.DataFrame(columns=["a", "b", "kind", "label", "confidence", "evidence"])
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

    # ------------------------------------------------------------------ the check
    def check(self, request: dict[str, Any]) -> dict[str, Any]:
        began = time.perf_counter()
        supplier = request.get("supplier") or {}
        project = request.get("project") or {}
        resolved = self.resolve_supplier(text(supplier.get("name")), text(supplier.get("uscc")))
        panel = [self.panel_member(p) for p in request.get("panel") or []]
        holders = self._request_holders(resolved, supplier)
        answer: dict[str, Any] = {
            "screening_id": self.screening_id,
            "dataset_id": self.dataset_id,
            "policy": self.profile.name,
            "supplier": {
                "given": {k: supplier.get(k) for k in ("name", "uscc") if supplier.get(k)},
                "org_key": resolved.org_key,
                "name": resolved.name,
                "found_by": resolved.basis,
                "notes": resolved.notes,
                "holders": [
                    {
                        "name": str(name),
                        "role": str(role),
                        "source": {"file": file, "row": row, "table": table}
                        if text(file)
                        else {"file": "request", "row": None, "table": None},
                    }
                    for name, role, file, row, table in zip(
                        holders["name"].to_numpy(),
                        holders["role"].to_numpy(),
                        holders["file"].to_numpy(),
                        holders["row"].to_numpy(),
                        holders["table"].to_numpy(),
                        strict=True,
                    )
                ],
            },
            "panel": panel,
            "avoidance": self._avoidance(panel, holders, resolved),
            "catalogue": self._catalogue(resolved, supplier, project),
            "over_cap": self._over_cap(project),
            "split_bid": self._split(resolved, project),
            "quotes": self._quotes(resolved, request.get("quoting_suppliers") or []),
        }
        answer["verdict"] = _verdict(answer)
        answer["elapsed_ms"] = round((time.perf_counter() - began) * 1000, 2)
        return answer

    def _request_holders(self, resolved: Resolved, supplier: dict[str, Any]) -> pd.DataFrame:
        """The supplier's registered role holders, plus the people the request names (the
        legal representative written on the bid, with an ID number where known)."""
        rows = self.holders_of(resolved.org_key)
        given: list[dict[str, Any]] = []
        for person in supplier.get("people") or []:
            name = text(person.get("name"))
            if not name:
                continue
            number, problem = ric_normalise(text(person.get("id_number")) or "")
            valid = bool(text(person.get("id_number"))) and problem is None
            given.append(
                {
                    "org_key": resolved.org_key or "request:supplier",
                    "org_name": resolved.name or text(supplier.get("name")) or "（申报单位）",
                    "key": f"id:{number}" if valid else f"request:{person_name(name)}",
                    "name": name,
                    "id_number": number if valid else None,
                    "id_valid": valid,
                    "phone": None,
                    "role": text(person.get("role")) or "法定代表人",
                    "share": None,
                    "file": None,
                    "row": None,
                    "table": None,
                }
            )
        if not given:
            return rows
        extra = prepare(pd.DataFrame(given), with_pinyin=False)
        known = set(zip(rows["key"], rows["role"], strict=True))
        extra = extra[
            [(k, r) not in known for k, r in zip(extra["key"], extra["role"], strict=True)]
        ]
        return pd.concat([rows, extra], ignore_index=True) if len(extra) else rows

    def _avoidance(
        self, panel: list[dict[str, Any]], holders: pd.DataFrame, resolved: Resolved
    ) -> list[dict[str, Any]]:
        settings = self._settings("avoidance", AvoidanceSettings)
        if settings is None:
            return []
        roles = (*settings.head_roles, *settings.other_roles)
        right = holders[holders["role"].isin(roles)]
        members = [p for p in panel if p.get("found")]
        if right.empty or not members:
            return []
        by_key: dict[str, list[dict[str, Any]]] = {}
        for p in members:
            by_key.setdefault(p["person_key"], []).append(p)
        rows = self.kinpositions(list(by_key))
        if len(rows) == 0:
            return []
        right = right.reset_index(drop=True)
        pairs = self.candidates(
            rows, right, prior=self.avoidance_prior, floor=settings.min_confidence
        )
        if pairs.empty:
            return []  # the usual answer, in well under a millisecond
        # only the rows met by some candidate go on to the resolver's scoring
        lrows = np.unique(pairs["l"].to_numpy())
        rrows = np.unique(pairs["r"].to_numpy())
        left = self.kin.iloc[rows[lrows]].reset_index(drop=True)
        right = right.iloc[rrows].reset_index(drop=True)
        pairs = pd.DataFrame(
            {
                "l": np.searchsorted(lrows, pairs["l"].to_numpy()),
                "r": np.searchsorted(rrows, pairs["r"].to_numpy()),
            }
        )
        right = right.rename(columns={"file": "h_file", "row": "h_row", "table": "h_table"})
        lp = prepare(left, with_pinyin=False)
        rp = prepare(right, with_pinyin=False)
        names = pd.concat([lp["name_norm"], rp["name_norm"]]).dropna().unique()
        freq = self.commonness.reindex(names)
        unseen = freq.isna()
        if unseen.any():
            freq[unseen] = [self.shares.u(str(n)) for n in freq.index[unseen]]
        scored = score_in_context(lp, rp, pairs, prior=self.avoidance_prior, frequencies=freq)
        hits = _hits(left, right, scored, settings.min_confidence)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for h in hits:
            groups.setdefault((str(h["official"]), str(h["h_key"])), []).append(h)
        out: list[dict[str, Any]] = []
        for (official, _hkey), group in groups.items():
            best = group[0]
            hroles = sorted({str(h["h_role"]) for h in group}, key=lambda r: ROLE_ORDER.get(r, 9))
            by_role = {str(h["h_role"]): h for h in reversed(group)}
            head = any(r in settings.head_roles for r in hroles)
            self_dealing = best["category"] == "本人"
            clauses = settings.clauses if head else []
            if not head or self_dealing:
                clauses = [*clauses, settings.roles_clause]
            path = (
                self.scr.kin_sentence(best["nodes"], best["via"])
                + f" —{hroles[0]}→ {best['h_org_name']}"
            )
            steps = [
                *self.scr.kin_steps(best["official"], best["nodes"], best["via"]),
                identity_step(self.scr, best),
                *(
                    role_step(r) if text(r.get("h_h_file")) else _request_role(r)
                    for r in (
                        by_role[role] for role in dict.fromkeys(str(h["h_role"]) for h in group)
                    )
                ),
                *policy_steps(self.profile.name, clauses),
            ]
            confidence = float(best["confidence"])
            for member in by_key[str(official)]:
                out.append(
                    {
                        "staff_id": member["staff_id"],
                        "staff_name": member["name"],
                        "relation": "本人" if self_dealing else str(best["category"]),
                        "relative": self.scr.name_of(str(best["relative"])),
                        "holder": str(best["h_name"]),
                        "roles": hroles,
                        "organisation": str(best["h_org_name"]),
                        "self_dealing": self_dealing,
                        "severity": "high" if self_dealing or head else "medium",
                        "confidence": round(confidence, 4),
                        "status": "线索待核" if confidence < 0.5 else "应当回避",
                        "kin_confidence": round(float(best["conf"]), 4),
                        "identity_confidence": round(float(best["match_conf"]), 4),
                        "path": path,
                        "citation": "；".join(dict.fromkeys(c.ref for c in clauses)),
                        "evidence": _steps(steps),
                    }
                )
        return out

    def _catalogue(
        self, resolved: Resolved, supplier: dict[str, Any], project: dict[str, Any]
    ) -> dict[str, Any]:
        settings = self._settings("off_catalogue", OffCatalogueSettings)
        category = text(project.get("category"))
        if settings is None or self.catalogue is None:
            why = "政策配置不适用" if settings is None else "数据中没有项目库表"
            return {"applies": False, "note": why}
        if category not in settings.categories:
            return {"applies": False, "note": f"{category or '未注明类别'}项目不要求入库"}
        code = (
            resolved.org_key[5:]
            if resolved.org_key and resolved.org_key.startswith("uscc:")
            else None
        )
        core = org_name(resolved.name or text(supplier.get("name")) or "") or None
        when = _when(project)
        mine = self.catalogue.entries_of(code, core)
        entries = [] if mine is None else _entry_rows(mine)
        listed = mine is not None and (when is None or Catalogue.valid_on(mine, when))
        near = (
            None if mine is not None else self.catalogue.near(code, core, settings.near_name_ratio)
        )
        answer: dict[str, Any] = {
            "applies": True,
            "listed": bool(listed),
            "on": str(when.date()) if when is not None else None,
            "entries": entries,
            "near_names_other_uscc": [] if near is None else _entry_rows(near),
            "citation": settings.citation,
        }
        if not listed:
            answer["note"] = (
                "不在项目库（或签约日不在有效期内），须逐一列表报街道纪工委和区专责领导小组办公室备案"
            )
        return answer

    def _over_cap(self, project: dict[str, Any]) -> dict[str, Any]:
        amount = _amount(project)
        category = text(project.get("category"))
        cap = self.caps.get(category or "")
        over = self.profile.settings("over_cap")
        if amount is None or cap is None or over is None:
            return {"applies": False}
        return {
            "applies": True,
            "amount": amount,
            "cap": cap,
            "over": amount > cap,
            "text": f"金额{yuan_wan(amount)}，{category}上限{yuan_wan(cap)}",
            "citation": over.citation,
        }

    def _split(self, resolved: Resolved, project: dict[str, Any]) -> dict[str, Any]:
        settings = self.split_settings
        pieces = self.pieces
        category = text(project.get("category"))
        amount = _amount(project)
        when = _when(project)
        cap = self.caps.get(category or "")
        if settings is None or pieces is None or cap is None or amount is None:
            return {"applies": False}
        place_col = next((c for c in settings.scope if text(project.get(c))), None)
        if place_col is None or resolved.org_key is None or when is None:
            return {"applies": False, "note": "需要承接单位、社区（或街道）和签约日期"}
        place = text(project.get(place_col))
        same = pieces.get((place_col, str(place), str(category), int(when.year)))
        # the project under check, when the ledger already holds it, is not its own history
        this = text(project.get("project_id"))
        if same is not None and this:
            same = [r for r in same if str(r["project_id"]) != this]
        if not same:
            return {"applies": True, "risk": "none", "awards": [], "cap": cap}
        title = subject(project.get("title")) if text(project.get("title")) else None
        if title is not None:
            same = [
                r for r in same if fuzz.ratio(title, r["_subject"]) >= settings.title_similarity
            ]
        if not same:
            return {"applies": True, "risk": "none", "awards": [], "cap": cap}
        others = sorted({str(r["org_key"]) for r in same} - {resolved.org_key})
        related: dict[str, list[str]] = {}
        if others:
            rel = self.relations([(resolved.org_key, o) for o in others], "split_bid")
            rel = rel[rel["confidence"] >= settings.min_confidence]
            for a, b, label in zip(rel["a"], rel["b"], rel["label"], strict=True):
                other = b if a == resolved.org_key else a
                related.setdefault(str(other), []).append(str(label))
        mine = [r for r in same if r["org_key"] == resolved.org_key or r["org_key"] in related]
        if not mine:
            return {"applies": True, "risk": "none", "awards": [], "cap": cap}
        total = sum(float(r["amount"]) for r in mine) + amount
        days = [abs((when - r["_when"]).days) for r in mine]
        close = max(days) <= settings.close_days
        near = amount >= settings.near_cap_ratio * cap or any(
            float(r["amount"]) >= settings.near_cap_ratio * cap for r in mine
        )
        risk = "none"
        if total > cap:
            risk = "high" if close or near else "medium"
        awards = [
            {
                "project_id": str(r["project_id"]),
                "name": str(r["project_name"]),
                "amount": float(r["amount"]),
                "award_date": str(pd.Timestamp(r["_when"]).date()),
                "supplier": str(r.get("supplier_name") or r["org_key"]),
                "relation": "同一单位"
                if r["org_key"] == resolved.org_key
                else "关联单位：" + "；".join(related.get(str(r["org_key"]), [])),
                "source": {"file": r["project_file"], "row": int(r["project_row"])},
            }
            for r in mine
        ]
        return {
            "applies": True,
            "risk": risk,
            "cap": cap,
            "total_with_this": total,
            "within_days": int(max(days)),
            "text": (
                f"本单位（含关联单位）本年度在{place}已承接同类"
                f"{'相近' if title is not None else ''}项目{len(awards)}个，"
                f"连同本项目合计{yuan_wan(total)}，上限{yuan_wan(cap)}"
            ),
            "awards": awards,
            "titles_compared": title is not None,
            "citation": settings.citation,
        }

    def _quotes(self, resolved: Resolved, quoting: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys: list[tuple[str, str]] = []
        unresolved: list[dict[str, Any]] = []
        for q in quoting:
            r = self.resolve_supplier(text(q.get("name")), text(q.get("uscc")))
            if r.org_key is None:
                unresolved.append({"given": q, "found_by": r.basis, "notes": r.notes})
            else:
                keys.append((r.org_key, r.name or r.org_key))
        orgs = list(
            dict.fromkeys(
                [*([resolved.org_key] if resolved.org_key else []), *(k for k, _ in keys)]
            )
        )
        out: list[dict[str, Any]] = []
        if len(orgs) >= 2:
            rel = self.relations(
                [(a, b) for i, a in enumerate(orgs) for b in orgs[i + 1 :]], "collusive_quotes"
            )
            for rec in rel.to_dict("records"):
                out.append(
                    {
                        "a": self.org_names.get(str(rec["a"]), str(rec["a"])),
                        "b": self.org_names.get(str(rec["b"]), str(rec["b"])),
                        "kind": rec["kind"],
                        "label": rec["label"],
                        "confidence": round(float(rec["confidence"]), 4),
                        "evidence": _steps(rec["evidence"]),
                    }
                )
        out.extend({"unresolved": u} for u in unresolved)
        return out


def _hits(
    left: pd.DataFrame, right: pd.DataFrame, scored: pd.DataFrame, floor: float
) -> list[dict[str, Any]]:
    """The scored pairs as plain records, kin row beside holder row (``h_`` columns), the
    closest and surest first (a DataFrame per answer costs more than the answer)."""
    lcols = {str(c): left[c].to_numpy() for c in left.columns}
    rcols = {f"h_{c}": right[c].to_numpy() for c in right.columns}
    hits: list[dict[str, Any]] = []
    for li, ri, match, why in zip(
        scored["l"], scored["r"], scored["confidence"], scored["reasons"], strict=True
    ):
        row = {c: v[li] for c, v in lcols.items()} | {c: v[ri] for c, v in rcols.items()}
        row["match_conf"] = float(match)
        row["reasons"] = why
        row["confidence"] = round(float(row["conf"]) * float(match), 4)
        if row["confidence"] >= floor:
            hits.append(row)
    hits.sort(
        key=lambda h: (
            h["category"] != "本人",
            -h["confidence"],
            ROLE_ORDER.get(str(h["h_role"]), 9),
        )
    )
    return hits


def _request_role(row: dict[str, Any]) -> EvidenceStep:
    return EvidenceStep(
        kind="role",
        text=f"本次申报材料：{row['h_name']} —{row['h_role']}→ {row['h_org_name']}",
        data={"role": row["h_role"], "organisation": row["h_org_key"]},
    )


def _entry_rows(entries: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "item": text(e.get("item_name")),
            "supplier": text(e.get("supplier_name")),
            "uscc": text(e.get("uscc")),
            "level": text(e.get("level")),
            "valid_from": str(pd.Timestamp(e["valid_from"]).date())
            if text(e.get("valid_from"))
            else None,
            "valid_to": str(pd.Timestamp(e["valid_to"]).date())
            if text(e.get("valid_to"))
            else None,
            "source": {"file": str(e["_file"]), "row": int(e["_row"])},
        }
        for e in entries.to_dict("records")
    ]


def _amount(project: dict[str, Any]) -> float | None:
    if project.get("amount") is not None:
        return float(project["amount"])
    if project.get("amount_wan") is not None:
        return float(project["amount_wan"]) * 10_000
    return None


def _when(project: dict[str, Any]) -> pd.Timestamp | None:
    value = project.get("date")
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return pd.Timestamp(value)
    try:
        return pd.Timestamp(date.fromisoformat(str(value)[:10]))
    except ValueError:
        pass
    stamp = pd.to_datetime(str(value), errors="coerce")
    return None if pd.isna(stamp) else pd.Timestamp(stamp)


def _verdict(answer: dict[str, Any]) -> str:
    """conflict: a panel member must step aside (an assertion); caution: anything else to
    check first (a lead, off-catalogue, over the cap, split risk, related quotes); clear."""
    avoid = answer["avoidance"]
    if any(a["confidence"] >= 0.5 for a in avoid):
        return "conflict"
    cat = answer["catalogue"]
    if (
        avoid
        or (cat.get("applies") and not cat.get("listed"))
        or answer["over_cap"].get("over")
        or answer["split_bid"].get("risk") in ("high", "medium")
        or any("kind" in q for q in answer["quotes"])
    ):
        return "caution"
    return "clear"
