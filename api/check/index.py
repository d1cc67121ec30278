"""The pre-award check's index: what one finished screening knows, positioned so that one
check reads only the rows of its own panel and supplier.

When a screening finishes, :class:`CheckIndex` keeps what the batch path computed — the
identity keys, every official's relatives within the legal categories (with paths and
confidences), every role holder of every organisation, the catalogue, the awarded projects.
It answers the rules' questions about one award (:class:`integrity.screening.award.AwardContext`):
the rules' own ``assess`` functions judge the award (:mod:`api.check.answer`), so a check and
the next screening give one judgement. No rule logic lives here.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from api.check.holders import AwardHolders, HolderArrays, given_holders
from api.check.lookups import Lookups
from api.check.relations import RelationsIndex
from integrity.findings import REQUEST_SOURCE
from integrity.identity.addresses import with_county
from integrity.identity.blocking import (
    UNCOUNTED_SHARE,
    birth_bits,
    gender_bits,
    level_bits,
    lowered_need,
    need_bits,
    phone_bits,
)
from integrity.identity.calibration import PANEL
from integrity.identity.family import address_lift
from integrity.identity.family import lift as family_lift
from integrity.identity.mentions import NameShares, pinyin_of, prepare
from integrity.identity.names import org_name, person_name, pinyin_key, split_surname
from integrity.identity.priors import CONTEXT_PRIOR
from integrity.identity.scoring import (
    SCORED_COLUMNS,
    SMALL_PAIRS,
    Weights,
    rows_at,
    score_in_context,
    score_records_in_context,
)
from integrity.policy import Profile
from integrity.rules.off_catalogue import OffCatalogueSettings
from integrity.rules.split_bid import SplitBidSettings, caps_of, pieces
from integrity.scan import ScanResult
from integrity.screening.award import Award
from integrity.screening.catalogue import Catalogue
from integrity.screening.decisions import role_rank
from integrity.screening.kin import Screening, kin_of
from integrity.screening.spans import positions

# a holder's source columns as decision_kin names them beside the kin row's (then h_...)
HOLDER_RENAMED = {"file": "h_file", "row": "h_row", "table": "h_table"}


class CheckIndex(Lookups, RelationsIndex):
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
        # each holder's company's county, where the counties are weighed (identity.addresses)
        self.holders = holders = with_county(holders, scr.family_places)
        self.holder_pos = positions(holders["org_key"])
        self.holder_arrays = HolderArrays.of(holders)
        self.commonness = scr.name_commonness
        self.shares = NameShares.of(scr.named_people["name_norm"])
        self._index_orgs(scr.keyed, holders)
        self._index_projects()
        # the relationship graph for the graph endpoints, built on their first call
        self._graph_view: Any = None
        # warm what the first check would otherwise pay for (the link lookup and the names
        # by key that explanations read, kept in the index file; pinyin, the resolver's
        # scoring on a pair)
        scr.build_lookups()
        self._warm()
        self.build_seconds = round(time.perf_counter() - began, 3)

    def warm_lookups(self) -> None:
        """Build the hash tables of the label lookups a check reads: pandas builds one on an
        index's first lookup and does not keep it in the index file. Called where the index
        is swapped in, before workers are forked from that process, so that they share the
        tables rather than each building its own on its first checks (80 ms at city
        scale: the names' commonness, the kin links by id)."""
        for labels in (self.commonness.index, self.scr.link_index.frame.index):
            if len(labels):
                labels.get_loc(labels[0])

    def _warm(self) -> None:
        from api.check.answer import answer  # noqa: PLC0415 - the answer reads this index
        from api.check.models import CheckIn  # noqa: PLC0415

        if self.staff and len(self.holders):
            first = next(iter(self.staff.values()))
            answer(
                self,
                CheckIn.model_validate(
                    {
                        "supplier": {"name": str(self.holders["org_name"].iloc[0])},
                        "panel": [{"staff_id": str(first["staff_id"])}],
                        "project": {"category": "服务类", "amount": 1.0, "date": "2024-01-01"},
                    }
                ),
            )

    @property
    def screening(self) -> Screening:
        return self.scr

    def _index_staff(self, staff: pd.DataFrame) -> None:
        cols = ("staff_id", "name", "person_key", "street", "community", "position")
        self.staff = {
            str(r["staff_id"]): {str(k): v for k, v in r.items()}
            for r in staff[[c for c in cols if c in staff]].to_dict("records")
        }
        self.staff_by_name = {}
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
        self._kin_u = (
            kin["name_norm"].map(scr.name_commonness).fillna(UNCOUNTED_SHARE).to_numpy(dtype=float)
        )
        self._kin_birth = kin["birth"].notna().to_numpy()
        self._kin_phone = kin["phone"].notna().to_numpy()
        self._kin_lift = family_lift(kin)  # what the family's places could add
        self._kin_addr_lift = address_lift(kin)  # and the companies' counties
        self._lowered_needs: dict[tuple[float, float, str], np.ndarray] = {}
        # one object per distinct surname: a few hundred strings in the kept file, not 500,000
        surnames: dict[str, str] = {}
        self._kin_surname = np.array(
            [surnames.setdefault(s, s) for s in (split_surname(n)[0] for n in self._kin_name)],
            dtype=object,
        )
        # what each blocking level and each agreeing field can add (identity.blocking)
        self._weights = Weights()
        self._levels = level_bits(self._weights)
        self._gender_bits = gender_bits(self._weights)
        self._birth_bits = birth_bits(self._weights)
        self._phone_bits = phone_bits(self._weights)
        self.avoidance_prior = scr.priors.get("avoidance", CONTEXT_PRIOR)
        # the panel's calibration map at this data's namesake rate, as the batch states it
        self.panel_context = scr.stated_in(PANEL)
        # and the names its numbered people share, whose exact matches the map of all pairs
        # states
        self.shared_names = scr.shared_names
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
        self.catalogue: Catalogue | None = (
            Catalogue.of(t["catalogue"]) if "catalogue" in t else None
        )
        self.org_cores = list(self.orgs_by_core)
        self._near_seen: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
        self._index_relations(t, holders)

    def _index_projects(self) -> None:
        """split_bid's pieces (awarded projects under their cap) by place, category and
        year, as the batch groups them."""
        t = self.scr.keyed
        self.piece_groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        split = self.profile.settings("split_bid")
        if "projects" not in t or not isinstance(split, SplitBidSettings):
            return
        caps = caps_of(self.profile, split)
        found = pieces(t["projects"], caps, split) if caps else None
        for piece in found or []:
            key = (str(piece["_place"]), str(piece["project_category"]), int(piece["_year"]))
            self.piece_groups.setdefault(key, []).append(piece)

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

    def _lowered(self, prior: float, floor: float, by: str = "number") -> np.ndarray:
        """Each kin row's need against a holder with a weighable number (``by`` "number") or
        whose company's county is weighed ("county"), lowered_need, once per prior and floor
        (a check asks for a few rows: their distinct lifts each cost a map inversion)."""
        key = (prior, floor, by)
        if key not in self._lowered_needs:
            lift = self._kin_lift if by == "number" else self._kin_addr_lift
            need = lowered_need(prior, floor, self.panel_context, lift)
            self._lowered_needs[key] = np.broadcast_to(need, lift.shape).copy()
        return self._lowered_needs[key]

    def candidates(
        self, rows: np.ndarray, right: HolderArrays, *, prior: float, floor: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(l, r) pairs of kin rows (positions ``rows``) and holders (positions in
        ``right``), ordered by holder, that share a blocking key as the batch blocks them —
        the person key, the normalised name, its pinyin, or the name with one character
        substituted (names of three characters or more) — and whose best possible score at
        that key could reach ``floor`` (as the batch's viability pruning: a shared 王芳 with
        nothing else to compare never can). One comparison of the panel's kin rows with the
        supplier's holders, as matrices."""
        w = self._weights
        # the need, lowered where the family's places could lift a row's link with a holder
        # who has an ID number (blocking.lowered_need, as the batch's context_pairs)
        lowered = self._lowered(prior, floor)[rows]
        base = need_bits(prior, floor, self.panel_context)
        by_county = np.where(
            right.county[None, :], self._lowered(prior, floor, "county")[rows][:, None], base
        )
        need = np.where(right.id_valid[None, :], lowered[:, None], by_county)
        names = self._kin_name[rows]
        rnames = right.name_norm
        named = np.array([bool(n) for n in rnames], dtype=bool)[None, :]
        hit = self._kin_key[rows][:, None] == right.key[None, :]
        # the most the pair could score at each name level (blocking.headroom)
        head = (
            self._gender_bits
            + np.where(self._kin_birth[rows][:, None] & right.birth[None, :], self._birth_bits, 0.0)
            + np.where(self._kin_phone[rows][:, None] & right.phone[None, :], self._phone_bits, 0.0)
            - np.log2(self._kin_u[rows])[:, None]
        )
        same = names[:, None] == rnames[None, :]
        hit |= named & same & (head + self._levels["name"] >= need)
        rpinyin = np.array([pinyin_key(n) if n else "" for n in rnames], dtype=object)
        same_py = named & (self._kin_pinyin[rows][:, None] == rpinyin[None, :]) & ~same
        if same_py.any():
            rsurname = np.array([split_surname(n)[0] for n in rnames], dtype=object)
            other = self._kin_surname[rows][:, None] != rsurname[None, :]
            py_bits = (
                head + self._levels["pinyin"] - np.where(other, w.name_surname_homophone_bits, 0.0)
            )
            hit |= same_py & (py_bits >= need)
        rlen = np.array([len(n) for n in rnames], dtype=np.int16)
        long = named & (rlen >= 3)[None, :]
        if long.any():
            edits = process.cdist(
                list(names), list(rnames), scorer=Levenshtein.distance, score_cutoff=1,
                dtype=np.int32,
            )  # fmt: skip
            hit |= (
                long
                & (edits == 1)
                & (self._kin_len[rows][:, None] == rlen[None, :])
                & (head + self._levels["edit"] >= need)
            )
        holder, kin = np.nonzero(hit.T)
        return kin, holder

    # ------------------------------------------------------------------ one award
    def award_holders(self, award: Award) -> AwardHolders:
        """The supplier's registered role holders, plus the people the bid names (the legal
        representative written on it, with an ID number where known)."""
        span = self.holder_pos.get(award.org_key) if award.org_key else None
        at = np.arange(*span) if span is not None else np.empty(0, dtype=np.int64)
        registered = self.holder_arrays.take(at)
        # every person the bid names is kept as the bid's, also one the registry holds: a
        # list that dropped a registered person would tell whoever sent a guessed ID number
        # that the guess was right
        given = given_holders(award)
        if given is None:
            return AwardHolders(at, None, registered)
        return AwardHolders(at, given, registered.then(HolderArrays.of(given)))

    def supplier_holders(self, award: Award) -> list[dict[str, Any]]:
        return self.award_holders(award).records()

    def decision_kin(
        self, award: Award, roles: tuple[str, ...], floor: float
    ) -> list[dict[str, Any]]:
        """decision_kin's rows for one award (:class:`integrity.screening.award.AwardContext`): the
        panel's kin rows met by the supplier's holders in the batch's blocks, scored by the
        batch's resolver with the batch's measured prior, each beside the award's project
        and the member's participation."""
        by_key: dict[str, list[dict[str, Any]]] = {}
        for member in award.panel:
            if member.get("person_key"):
                by_key.setdefault(str(member["person_key"]), []).append(member)
        holders = self.award_holders(award)
        wanted = set(roles)
        in_role = np.flatnonzero([r in wanted for r in holders.arrays.role])
        if not len(in_role) or not by_key:
            return []
        rows = self.kinpositions(list(by_key))
        if len(rows) == 0:
            return []
        met, by = self.candidates(
            rows, holders.arrays.take(in_role), prior=self.avoidance_prior, floor=floor
        )
        if not len(met):
            return []  # the usual answer, in well under a millisecond
        project = award.awarded()
        if holders.given is None and len(met) <= SMALL_PAIRS:
            hits = self._scored(rows[met], holders.positions[in_role[by]], floor)
        else:
            hits = self._scored_frames(holders, rows, in_role, met, by, floor)
        out: list[dict[str, Any]] = []
        for hit in hits:
            for member in by_key[str(hit["official"])]:
                out.append(
                    hit
                    | project
                    | {
                        "staff_id": member["staff_id"],
                        "staff_name": member["staff_name"],
                        "person_key": member["person_key"],
                        "part_role": member["part_role"],
                        "part_file": member.get("part_file", REQUEST_SOURCE),
                        "part_row": member.get("part_row"),
                    }
                )
        return out

    def _scored(
        self, kin_at: np.ndarray, holder_at: np.ndarray, floor: float
    ) -> list[dict[str, Any]]:
        """The candidate pairs (kin row ``kin_at[i]``, registered holder ``holder_at[i]``)
        scored by the resolver as records (:func:`score_records_in_context`, the arithmetic
        of the batch's scoring), without a frame: the decision_kin rows of those at
        ``floor`` or above."""
        ra = rows_at(self.kin, kin_at, SCORED_COLUMNS)
        rb = rows_at(self.holders, holder_at, SCORED_COLUMNS)
        freq: dict[str, float] = {}
        for r in ra:
            name = r["name_norm"]
            if isinstance(name, str) and name not in freq:
                u = self.commonness.get(name)
                freq[name] = self.shares.u(name) if u is None or pd.isna(u) else u
        keys = list(zip(self._kin_key[kin_at], self.holder_arrays.key[holder_at], strict=True))
        matches, reasons = score_records_in_context(
            ra,
            rb,
            keys,
            prior=self.avoidance_prior,
            frequencies=freq,
            floor=1 / (len(np.unique(kin_at)) + len(np.unique(holder_at))),
            context=self.panel_context,
            shared=self.shared_names,
        )
        conf = self.kin["conf"].array[kin_at].to_numpy()
        kept = [
            (i, match, why, sure)
            for i, (match, why) in enumerate(zip(matches, reasons, strict=True))
            for sure in [_sure(conf[i], match)]
            if sure >= floor
        ]
        if not kept:
            return []
        at = np.array([i for i, *_ in kept])
        lcols = {str(c): self.kin[c].array[kin_at[at]].to_numpy() for c in self.kin.columns}
        rcols = {
            "h_" + HOLDER_RENAMED.get(str(c), str(c)): self.holders[c]
            .array[holder_at[at]]
            .to_numpy()
            for c in self.holders.columns
        }
        return _ranked(
            [(lcols, j, rcols, j, match, why, sure) for j, (_, match, why, sure) in enumerate(kept)]
        )

    def _scored_frames(
        self,
        holders: AwardHolders,
        rows: np.ndarray,
        in_role: np.ndarray,
        met: np.ndarray,
        by: np.ndarray,
        floor: float,
    ) -> list[dict[str, Any]]:
        """:meth:`_scored` through the resolver's frames: for pairs beyond the few, or with
        people the bid names (their rows are a frame of their own)."""
        # only the rows met by some candidate go on to the resolver's scoring
        lrows, rrows = np.unique(met), np.unique(by)
        left = self.kin.iloc[rows[lrows]].reset_index(drop=True)
        right = holders.frame(self.holders, in_role[rrows])
        pairs = pd.DataFrame({"l": np.searchsorted(lrows, met), "r": np.searchsorted(rrows, by)})
        right = right.rename(columns=HOLDER_RENAMED)
        lp = prepare(left, with_pinyin=False)
        rp = prepare(right, with_pinyin=False)
        names = pd.concat([lp["name_norm"], rp["name_norm"]]).dropna().unique()
        freq = self.commonness.reindex(names)
        unseen = freq.isna()
        if unseen.any():
            freq[unseen] = [self.shares.u(str(n)) for n in freq.index[unseen]]
        scored = score_in_context(
            lp, rp, pairs, prior=self.avoidance_prior, frequencies=freq,
            context=self.panel_context, shared=self.shared_names,
        )  # fmt: skip
        return _hits(left, right, scored, floor)

    def relations(self, pairs: list[tuple[str, str]], rule: str) -> pd.DataFrame:
        """org_relations on the (a, b) pairs that could be related."""
        return self.related(pairs, rule)

    def history(self, award: Award, place: str, category: str, year: int) -> list[dict[str, Any]]:
        """split_bid's pieces awarded in the place, category and year, the award's own
        project left out (a check of a project the ledger already holds)."""
        found = self.piece_groups.get((place, category, year), [])
        return [p for p in found if str(p["project_id"]) != award.project_id]

    def catalogue_near(self, core: str | None, code: str | None) -> list[dict[str, Any]]:
        """The catalogue's near misses for a supplier, remembered (a similarity scan of the
        whole catalogue's names costs milliseconds; suppliers come back)."""
        settings = self.profile.settings("off_catalogue")
        if self.catalogue is None or not isinstance(settings, OffCatalogueSettings):
            return []
        key = (core, code)
        found = self._near_seen.get(key)
        if found is None:
            found = self.catalogue.near(code, core, settings.near_name_ratio)
            if len(self._near_seen) > 50_000:
                self._near_seen.clear()
            self._near_seen[key] = found
        return [dict(r) for r in found]


def _hits(
    left: pd.DataFrame, right: pd.DataFrame, scored: pd.DataFrame, floor: float
) -> list[dict[str, Any]]:
    """The scored pairs as plain records, kin row beside holder row (``h_`` columns), the
    closest and surest first (a DataFrame per answer costs more than the answer)."""
    kin_conf = left["conf"].to_numpy()
    kept = [
        (li, ri, float(match), why, sure)
        for li, ri, match, why in zip(
            scored["l"], scored["r"], scored["confidence"], scored["reasons"], strict=True
        )
        for sure in [_sure(kin_conf[li], match)]
        if sure >= floor
    ]
    if not kept:  # namesakes the scoring told apart: no row to build
        return []
    lcols = {str(c): left[c].to_numpy() for c in left.columns}
    rcols = {f"h_{c}": right[c].to_numpy() for c in right.columns}
    return _ranked([(lcols, li, rcols, ri, match, why, sure) for li, ri, match, why, sure in kept])


def _sure(kin_conf: Any, match: Any) -> float:
    """A pair's confidence as decision_kin reports it: the kin link's times the identity
    match's."""
    return round(float(kin_conf) * float(match), 4)


Columns = dict[str, np.ndarray]


def _ranked(
    kept: list[tuple[Columns, int, Columns, int, float, Any, float]],
) -> list[dict[str, Any]]:
    """decision_kin's rows: each kept pair's kin row (at its position in the kin columns)
    beside its holder row (``h_`` columns), with the match's confidence and reasons and
    the pair's, the closest and surest first."""
    hits: list[dict[str, Any]] = []
    for lcols, li, rcols, ri, match, why, sure in kept:
        row = {c: v[li] for c, v in lcols.items()} | {c: v[ri] for c, v in rcols.items()}
        row["match_conf"] = match
        row["reasons"] = why
        row["confidence"] = sure
        hits.append(row)
    hits.sort(
        key=lambda h: (
            h["category"] != "本人",
            -h["confidence"],
            role_rank(str(h["h_role"])),
        )
    )
    return hits
