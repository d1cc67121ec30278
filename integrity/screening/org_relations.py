"""Relations between organisations: the same person, kin-linked holders, shared contacts.

Which suppliers (two quoting for one award, two pieces of a split) are related, and how sure
that is: the same person in roles at both (by ID number, or a bare name scored in context), the
holders of the two near relatives, the same phone, e-mail or address to the room. Built on the
shared screening tables (integrity.screening.tables); the words a finding shows for each link too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from graph.build import normalise_contact
from integrity.findings import LEAD_THRESHOLD, REQUEST_SOURCE, EvidenceStep, SourceRef
from integrity.identity.blocking import in_index, viable
from integrity.identity.mentions import prepare
from integrity.identity.priors import CONTEXT_PRIOR, smoothed_prior
from integrity.identity.scoring import SMALL_PAIRS, score_at_in_context, score_in_context
from integrity.screening.kin import Screening

ROOM = re.compile(r"(\d+|[一二三四五六七八九十]+)(室|房|号房|单元\d+)$|\d{3,5}$")
CONTACT_LABELS = {"phone": "联系电话", "email": "邮箱", "address": "注册地址"}


def contact_key(what: str, value: Any) -> str | None:
    """A comparable contact: phones as digits (7+), e-mail lower case, addresses without
    spaces and only when they reach down to the room (a shared building is not enough)."""
    if value is None or pd.isna(value) or not str(value).strip():
        return None
    norm = normalise_contact(what, str(value))
    if what == "phone":
        return norm if len(norm) >= 7 else None
    if what == "address":
        return norm if ROOM.search(norm) else None
    return norm or None


# the reasons org_relations gives (its rows' ``kind``)
ORG_RELATION_KINDS = frozenset({"same_person", "kin", "contact"})


def org_relations(
    scr: Screening,
    pairs: pd.DataFrame,
    holders: pd.DataFrame | None = None,
    *,
    prior: float | None = None,
    label: str | None = None,
    both_bare: bool = True,
    kinds: Collection[str] = ORG_RELATION_KINDS,
) -> pd.DataFrame:
    """Why two organisations are related, for each pair (columns ``a``, ``b``: org keys).

    One row per reason: ``kind`` (same_person, kin, contact), ``label`` (the Chinese sentence),
    ``confidence`` and ``evidence`` (a list of EvidenceStep). Reasons: the same person in a
    role at both (same ID number, or the same name scored by the resolver); role holders who
    are kin (a registry or declaration link, within the legal categories); the same phone,
    e-mail or address down to the room in the supplier table. ``holders``: the role holders
    of (at least) the organisations in ``pairs``, when the caller has them at hand.

    A name match is weighed against ``prior``, the share of holder pairs of two
    organisations asked about together that are one person or kin: by default measured on
    the pairs asked (:func:`org_pair_prior`), and kept in ``scr.priors[label]`` so that the
    pre-award check weighs its few pairs as the batch did. ``both_bare``: look for two bare
    names of a registered pair of kin (a walk; the check asks only where its index says the
    names could be such a pair). ``kinds``: only these reasons are looked for (the check
    asks only for what its index says is possible for the pairs).
    """
    pairs = pairs[pairs["a"] != pairs["b"]].drop_duplicates()
    out: list[dict[str, Any]] = []
    if pairs.empty:
        return pd.DataFrame(columns=["a", "b", "kind", "label", "confidence", "evidence"])
    orgs = pd.Index(pd.concat([pairs["a"], pairs["b"]]).unique())
    pool = scr.holders if holders is None else holders
    holders = pool[pool["org_key"].isin(orgs)].reset_index(drop=True)
    wanted = set(zip(pairs["a"], pairs["b"], strict=True))
    wanted |= {(b, a) for a, b in wanted}

    if prior is None:
        prior = org_pair_prior(scr, holders, wanted)
    if label is not None:
        scr.priors[label] = prior
    if "same_person" in kinds:
        out.extend(_same_person(scr, holders, wanted, prior))
    if "kin" in kinds:
        out.extend(_kin_linked(scr, holders, wanted, prior, both_bare=both_bare))
    if "contact" in kinds:
        out.extend(_shared_contacts(scr, orgs, wanted))
    frame = pd.DataFrame(out, columns=["a", "b", "kind", "label", "confidence", "evidence"])
    return frame.drop_duplicates(subset=["a", "b", "kind", "label"]).reset_index(drop=True)


def org_pair_prior(
    scr: Screening,
    holders: pd.DataFrame,
    wanted: set[tuple[str, str]],
    guess: float = CONTEXT_PRIOR,
) -> float:
    """The share of holder pairs of two organisations asked about together (one from each)
    that are one person or kin within the legal categories, measured where it can be: on
    the holders with a valid ID number (the same number at both, or a kin path between the
    two numbers), smoothed towards ``guess`` (:func:`smoothed_prior`). Suppliers that quote
    together are sometimes one family's; how often, the district's own data says: a city
    whose 60,000 quoting pairs hold no such pair with numbers weighs a name match far less
    than a district where several do."""
    ided = holders.loc[holders["id_valid"].astype(bool), ["org_key", "key", "id_number"]]
    ided = ided.drop_duplicates(subset=["org_key", "id_number"])
    asked = pd.DataFrame(sorted((a, b) for a, b in wanted if a < b), columns=["a", "b"])
    if ided.empty or asked.empty:
        return guess
    n = ided.groupby("org_key").size()
    pairs = float((asked["a"].map(n).fillna(0) * asked["b"].map(n).fillna(0)).sum())
    at_a = ided.rename(columns={"org_key": "a"})
    at_b = ided.rename(columns={"org_key": "b"})
    same = len(asked.merge(at_a, on="a").merge(at_b[["b", "id_number"]], on=["b", "id_number"]))
    kin = scr.holder_kin_of(ided["key"].unique())
    kin = kin.loc[kin["relative"].isin(ided["key"]), ["official", "relative"]].drop_duplicates()
    related = asked.merge(
        kin.merge(at_a[["a", "key"]], left_on="official", right_on="key")[["a", "relative"]].merge(
            at_b[["b", "key"]], left_on="relative", right_on="key"
        )[["a", "b"]],
        on=["a", "b"],
    )
    return smoothed_prior(same + len(related), pairs, guess)


def identity_evidence(
    relative: str,
    relative_key: Any,
    holder: str,
    holder_key: Any,
    confidence: float,
    reasons: list[tuple[str, float]] | None,
) -> EvidenceStep:
    """The step saying a kin-side person and a registered role holder are (believed) one
    person, with the confidence and the resolver's reasons."""
    reasons = reasons or []
    if confidence >= 1.0:
        said = f"身份比对：{relative} 与 {holder} 身份证号相同，为同一人"
    else:
        why = "；".join(r if math.isinf(v) else f"{r}（{v:+.1f}）" for r, v in reasons)
        said = f"身份比对：{relative} 与登记的 {holder} 疑似同一人，置信度{confidence:.2f}（{why}）"
    return EvidenceStep(
        kind="identity",
        text=said,
        data={
            "from": relative_key,
            "to": holder_key,
            "confidence": confidence,
            "reasons": [[r, None if math.isinf(v) else v] for r, v in reasons],
        },
    )


def holder_step(h: dict[Any, Any]) -> EvidenceStep:
    """A role holder row: 李四 —法定代表人（持股30%）→ 某公司, with its source row."""
    share = h.get("share")
    held = f"（持股{float(share):g}%）" if share is not None and pd.notna(share) else ""
    said = f"{h['name']} —{h['role']}{held}→ {h['org_name']}"
    if h.get("file") == REQUEST_SOURCE:  # named in the bid a pre-award check was given
        return EvidenceStep(
            kind="role",
            text=f"本次核查请求：{said}",
            source=SourceRef(REQUEST_SOURCE, None, "supplier_people"),
            data={"role": h["role"], "organisation": h["org_key"]},
        )
    return EvidenceStep(
        kind="role",
        text=f"企业登记：{said}",
        source=SourceRef(str(h["file"]), int(h["row"]), str(h["table"])),
        data={"role": h["role"], "organisation": h["org_key"]},
    )


def _same_person(
    scr: Screening, holders: pd.DataFrame, wanted: set[tuple[str, str]], prior: float
) -> list[dict[str, Any]]:
    """The same person in a role at both organisations: one reason per person and pair,
    every role named."""
    if holders.empty or not wanted:
        return []
    # only holders of organisations that are asked about together meet (a pair number as
    # the context): never every holder against every other
    pairs = pd.DataFrame(sorted(wanted), columns=["a", "b"])
    pairs = pairs[pairs["a"] < pairs["b"]].reset_index(drop=True).rename_axis("pair").reset_index()
    left = pairs[["pair", "a"]].merge(
        holders.reset_index(names="h"), left_on="a", right_on="org_key"
    )
    right = pairs[["pair", "b"]].merge(
        holders.reset_index(names="h"), left_on="b", right_on="org_key"
    )
    matched = scr.match_in_context(left, right, on=["pair"], prior=prior, floor=LEAD_THRESHOLD)
    matched = matched[matched["confidence"] >= LEAD_THRESHOLD]
    matched = matched.assign(
        l=left["h"].to_numpy()[matched["l"].to_numpy()],
        r=right["h"].to_numpy()[matched["r"].to_numpy()],
    )
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    # records of the matched holders only: the organisations' holders are many
    met = pd.Index(pd.concat([matched["l"], matched["r"]]).unique())
    records = dict(zip(met, holders.loc[met].to_dict("records"), strict=True))
    for m in matched.to_dict("records"):
        ha, hb = records[m["l"]], records[m["r"]]
        if (ha["org_key"], hb["org_key"]) not in wanted or ha["org_key"] >= hb["org_key"]:
            continue
        g = grouped.setdefault(
            (str(ha["org_key"]), str(hb["org_key"]), str(ha["name_norm"])),
            {"ha": ha, "hb": hb, "ra": {}, "rb": {}, "conf": 0.0},
        )
        g["ra"].setdefault(ha["role"], ha)
        g["rb"].setdefault(hb["role"], hb)
        g["conf"] = max(g["conf"], float(m["confidence"]))
    out: list[dict[str, Any]] = []
    for (a, b, _), g in grouped.items():
        ha, hb, conf = g["ha"], g["hb"], g["conf"]
        how = "身份证号相同" if conf >= 1.0 else f"同一人置信度{conf:.2f}"
        out.append(
            {
                "a": a,
                "b": b,
                "kind": "same_person",
                "label": (
                    f"{ha['name']}同时是{ha['org_name']}的{'、'.join(g['ra'])}和"
                    f"{hb['org_name']}的{'、'.join(g['rb'])}（{how}）"
                ),
                "confidence": conf,
                "evidence": [
                    *(holder_step(h) for h in g["ra"].values()),
                    *(holder_step(h) for h in g["rb"].values()),
                ],
            }
        )
    return out


def _kin_linked(
    scr: Screening,
    holders: pd.DataFrame,
    wanted: set[tuple[str, str]],
    prior: float,
    *,
    both_bare: bool = True,
) -> list[dict[str, Any]]:
    """Role holders of the two organisations who are kin within the legal categories: one
    reason per pair of organisations and pair of people, every role named."""
    if holders.empty:  # no role holder of either organisation is known: no kin to link
        return []
    # only holders who appear in some kin link can have kin: the rest cost nothing
    everyone = holders
    holders = holders[in_index(holders["key"], scr.linked_keys)]
    if holders.empty:
        return _kin_both_bare(scr, everyone, wanted, prior) if both_bare else []
    kin = scr.holder_kin_of(holders["key"].unique())
    named = _kin_by_name(scr, holders, everyone, kin, wanted, prior)
    if both_bare:
        named += _kin_both_bare(scr, everyone, wanted, prior)
    # a relative who holds no role in the organisations asked about is no reason
    kin = kin[kin["relative"].isin(holders["key"])].sort_values(["hops"], kind="stable")
    by_key: dict[str, list[dict[Any, Any]]] = {}
    for h in holders.to_dict("records"):
        by_key.setdefault(str(h["key"]), []).append(h)
    grouped: dict[tuple[str, str, frozenset[str]], dict[str, Any]] = {}
    for k in kin.to_dict("records"):
        if k["relative"] not in by_key:
            continue
        for ha in by_key.get(k["official"], []):
            for hb in by_key[k["relative"]]:
                # only one reading of a link may classify (the other may contradict the sexes
                # the ID numbers give): whichever came, the pair is kept in key order
                if (ha["org_key"], hb["org_key"]) not in wanted or ha["org_key"] == hb["org_key"]:
                    continue
                pair = (min(ha["org_key"], hb["org_key"]), max(ha["org_key"], hb["org_key"]))
                g = grouped.setdefault(
                    (*pair, frozenset((k["official"], k["relative"]))),
                    {"k": k, "ha": ha, "hb": hb, "ra": {}, "rb": {}},
                )
                if g["k"] is k:
                    g["ra"].setdefault(ha["role"], ha)
                    g["rb"].setdefault(hb["role"], hb)
    out: list[dict[str, Any]] = []
    for (a, b, _), g in grouped.items():
        k, ha, hb = g["k"], g["ha"], g["hb"]
        out.append(
            {
                "a": a,
                "b": b,
                "kind": "kin",
                "label": (
                    f"{ha['org_name']}的{'、'.join(g['ra'])}{ha['name']}与"
                    f"{hb['org_name']}的{'、'.join(g['rb'])}{hb['name']}是{k['category']}"
                    f"（{scr.kin_sentence(k['nodes'], k['via'])}）"
                ),
                "confidence": float(k["conf"]),
                "evidence": [
                    *(holder_step(h) for h in g["ra"].values()),
                    *scr.kin_steps(k["official"], k["nodes"], k["via"]),
                    *(holder_step(h) for h in g["rb"].values()),
                ],
            }
        )
    return out + named


def _kin_by_name(
    scr: Screening,
    linked: pd.DataFrame,
    everyone: pd.DataFrame,
    kin: pd.DataFrame,
    wanted: set[tuple[str, str]],
    prior: float,
) -> list[dict[str, Any]]:
    """Holders of one organisation whose relative is named as a holder of the other without
    an ID number (the registry's 邹杰浩 —妻子→ 刘婉霞, who heads one supplier; a bare 邹杰浩
    heads the other): the relative and the bare holder scored as one person in the context
    of the pair (as the same person at both is), the kin path times that confidence."""
    bare = everyone[~everyone["id_valid"] & everyone["name_norm"].notna()]
    if bare.empty or kin.empty:
        return []
    holder_keys = set(everyone["key"])
    kin = kin[~kin["relative"].isin(holder_keys)]
    names = scr.people["name_norm"].reindex(kin["relative"]).to_numpy()
    kin = kin.assign(_name=names).dropna(subset=["_name"])
    kin = kin[kin["_name"].isin(set(bare["name_norm"]))]
    if kin.empty:
        return []
    ends = linked[["key", "org_key"]].drop_duplicates().rename(columns={"org_key": "a"})
    rows = kin.merge(ends, left_on="official", right_on="key").drop(columns="key")
    far = bare.reset_index(names="hb").rename(columns={"org_key": "b"})[["hb", "b", "name_norm"]]
    rows = rows.merge(far, left_on="_name", right_on="name_norm")
    rows = rows[
        [(a, b) in wanted and a != b for a, b in zip(rows["a"], rows["b"], strict=True)]
    ].reset_index(drop=True)
    if rows.empty:
        return []
    lp = prepare(scr.people.reindex(rows["relative"]).reset_index(names="key"), with_pinyin=False)
    rp = prepare(bare.loc[rows["hb"]].reset_index(drop=True), with_pinyin=False)
    pairs = pd.DataFrame({"l": np.arange(len(rows)), "r": np.arange(len(rows))})
    scored = score_in_context(
        lp, rp, pairs, prior=prior, frequencies=scr.name_commonness, reasons_from=0.0
    )
    rows = rows.assign(match_conf=scored["confidence"], reasons=scored["reasons"])
    rows = rows.assign(confidence=rows["conf"] * rows["match_conf"])
    rows = rows.sort_values(["confidence", "hops"], ascending=[False, True], kind="stable")
    by_key: dict[str, list[dict[Any, Any]]] = {}
    for h in linked.to_dict("records"):
        by_key.setdefault(str(h["key"]), []).append(h)
    # the roles each met bare name holds at its organisation, once
    met = everyone[everyone["org_key"].isin(set(rows["b"]))]
    roles_of: dict[tuple[Any, Any], dict[Any, dict[Any, Any]]] = {}
    for h in met.to_dict("records"):
        roles_of.setdefault((h["org_key"], h["name_norm"]), {})[h["role"]] = h
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for r in rows.to_dict("records"):
        hb = everyone.loc[r["hb"]].to_dict()
        ha_rows = [h for h in by_key.get(str(r["official"]), []) if h["org_key"] == r["a"]]
        if not ha_rows:
            continue
        pair = (min(r["a"], r["b"]), max(r["a"], r["b"]))
        if (*pair, str(r["official"]), str(hb["name_norm"])) in seen:
            continue
        seen.add((*pair, str(r["official"]), str(hb["name_norm"])))
        ha = ha_rows[0]
        ra = {h["role"]: h for h in ha_rows}
        rb = roles_of[(r["b"], hb["name_norm"])]
        identity = identity_evidence(
            scr.name_of(r["relative"]),
            r["relative"],
            str(hb["name"]),
            hb["key"],
            float(r["match_conf"]),
            r["reasons"],
        )
        out.append(
            {
                "a": pair[0],
                "b": pair[1],
                "kind": "kin",
                "label": (
                    f"{ha['org_name']}的{'、'.join(ra)}{ha['name']}与"
                    f"{hb['org_name']}的{'、'.join(rb)}{hb['name']}是{r['category']}"
                    f"（{scr.kin_sentence(r['nodes'], r['via'])} ≈ {hb['name']}，"
                    f"同一人置信度{float(r['match_conf']):.2f}）"
                ),
                "confidence": float(r["confidence"]),
                "evidence": [
                    *(holder_step(h) for h in ra.values()),
                    *scr.kin_steps(r["official"], r["nodes"], r["via"]),
                    identity,
                    *(holder_step(h) for h in rb.values()),
                ],
            }
        )
    return out


def _bare_matches(
    scr: Screening, keys: pd.Series, bare: pd.DataFrame, at: pd.Series
) -> pd.DataFrame:
    """Each kin-side person (``keys``) scored against the bare holder row ``at`` (labels in
    ``bare``) as one person, as any two mentions of the data are (the population prior):
    confidence and reasons."""
    if len(keys) <= SMALL_PAIRS:  # a check's few: read in place, not copied (the same frame)
        at_l = scr.people.index.get_indexer(pd.Index(keys))
        at_r = bare.index.get_indexer(pd.Index(at))
        if (at_l >= 0).all() and (at_r >= 0).all():
            scored = score_at_in_context(
                scr.people,
                bare,
                at_l,
                at_r,
                list(zip(keys, bare["key"].to_numpy()[at_r], strict=True)),
                prior=scr.population,
                frequencies=scr.name_commonness,
            )
            if scored is not None:
                return scored
    lp = prepare(scr.people.reindex(keys).reset_index(names="key"), with_pinyin=False)
    rp = prepare(bare.loc[at].reset_index(drop=True), with_pinyin=False)
    pairs = pd.DataFrame({"l": np.arange(len(keys)), "r": np.arange(len(keys))})
    return score_in_context(
        lp, rp, pairs, prior=scr.population, frequencies=scr.name_commonness, reasons_from=0.0
    )


def decisive_bare(
    holders: pd.DataFrame, freq: pd.Series, prior: float = CONTEXT_PRIOR
) -> pd.DataFrame:
    """The holders without a valid ID number whose name alone could make them one person
    with a namesake in two organisations' context (0.5 at ``prior``): only those can carry a
    relation that rests on two such matches at once (:func:`_kin_both_bare` reaches 0.5 only
    if each name's likelihood ratio is at least 1 / ``prior``)."""
    bare = holders[~holders["id_valid"] & holders["name_norm"].notna()]
    need = -math.log2(prior / (1 - prior))
    return bare[viable(bare, freq, "name", need).to_numpy()]


def _kin_both_bare(
    scr: Screening, everyone: pd.DataFrame, wanted: set[tuple[str, str]], prior: float
) -> list[dict[str, Any]]:
    """Two organisations each with a holder named without an ID number, whose names are a
    registered pair of kin (the registry's 陈晶晶 —丈夫→ 张飞杰; a bare 陈晶晶 heads one
    supplier, a bare 张飞杰 the other).

    Both names together are the evidence. That the bare 陈晶晶 is the registered one is
    weighed as any two mentions are (the population prior p, her name's likelihood ratio
    La); that, if so, the other supplier's bare 张飞杰 is her husband, as a holder pair of
    the two organisations is kin (``prior``, q; his name's Lb). With oa = p·La, ob = p·Lb the
    odds of each name alone, the belief that both are is oa·ob·(q/p) against the other
    readings (only she, only he, neither): oa·ob·(q/p) / (oa·ob·(q/p) + oa + ob + 1); the
    kin path's confidence times that. Two rare names of a registered couple heading two
    suppliers that quote together decide; two common ones, or a district whose quoting
    suppliers are never kin, do not."""
    bare = decisive_bare(everyone, scr.name_commonness, prior)
    if len(bare) < 2:
        return []
    # the name pairs that could relate two organisations asked about: a bare name at one, a
    # bare name at the other
    ends = bare.reset_index(names="h")[["h", "org_key", "name_norm"]].drop_duplicates(
        subset=["org_key", "name_norm"]
    )
    asked = pd.DataFrame(list(wanted), columns=["a", "b"])
    cand = asked.merge(
        ends.rename(columns={"h": "ha", "org_key": "a", "name_norm": "_xn"}), on="a"
    ).merge(ends.rename(columns={"h": "hb", "org_key": "b", "name_norm": "_yn"}), on="b")
    cand = cand[cand["a"] != cand["b"]]
    if cand.empty:
        return []
    # the registered people of those names, and their relatives among the partners' names
    names = scr.people["name_norm"]
    kin = scr.kin_among(scr.named(set(cand["_xn"])), scr.named(set(cand["_yn"])))
    if kin.empty:
        return []
    kin = kin.assign(
        _xn=names.reindex(kin["official"]).to_numpy(), _yn=names.reindex(kin["relative"]).to_numpy()
    )
    rows = kin.merge(cand, on=["_xn", "_yn"]).reset_index(drop=True)
    if rows.empty:
        return []
    sa = _bare_matches(scr, rows["official"], bare, rows["ha"])
    sb = _bare_matches(scr, rows["relative"], bare, rows["hb"])
    rows = rows.assign(
        ma=sa["confidence"].to_numpy(),
        mb=sb["confidence"].to_numpy(),
        why_a=sa["reasons"].to_numpy(),
        why_b=sb["reasons"].to_numpy(),
    )
    # the joint weighs each name's own odds (the resolver's posterior, 2**log-odds: the
    # calibration maps are fitted on single links, not on two names at once; the evidence
    # states each link as its map does)
    odds_a = np.exp2(sa["log_odds"].to_numpy(dtype=float))
    odds_b = np.exp2(sb["log_odds"].to_numpy(dtype=float))
    both = odds_a * odds_b * (prior / scr.population)
    rows = rows.assign(joint=both / (both + odds_a + odds_b + 1))
    rows = rows.assign(confidence=rows["conf"] * rows["joint"])
    rows = rows.sort_values(["confidence", "hops"], ascending=[False, True], kind="stable")
    roles_of: dict[tuple[Any, Any], dict[Any, dict[Any, Any]]] = {}
    met = bare[bare["org_key"].isin(set(rows["a"]) | set(rows["b"]))]
    for h in met.to_dict("records"):
        roles_of.setdefault((h["org_key"], h["name_norm"]), {})[h["role"]] = h
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for r in rows.to_dict("records"):
        ra, rb = roles_of[(r["a"], r["_xn"])], roles_of[(r["b"], r["_yn"])]
        ha, hb = next(iter(ra.values())), next(iter(rb.values()))
        pair = (min(r["a"], r["b"]), max(r["a"], r["b"]))
        if (*pair, *sorted((str(r["_xn"]), str(r["_yn"])))) in seen:
            continue
        seen.add((*pair, *sorted((str(r["_xn"]), str(r["_yn"])))))
        x, y = scr.name_of(r["official"]), scr.name_of(r["relative"])
        out.append(
            {
                "a": pair[0],
                "b": pair[1],
                "kind": "kin",
                "label": (
                    f"{ha['org_name']}的{'、'.join(ra)}{ha['name']}与"
                    f"{hb['org_name']}的{'、'.join(rb)}{hb['name']}是{r['category']}"
                    f"（{ha['name']} ≈ {scr.kin_sentence(r['nodes'], r['via'])} ≈ {hb['name']}，"
                    f"两端姓名同时相符，同一人置信度{float(r['joint']):.2f}）"
                ),
                "confidence": float(r["confidence"]),
                "evidence": [
                    *(holder_step(h) for h in ra.values()),
                    identity_evidence(
                        x, r["official"], str(ha["name"]), ha["key"], float(r["ma"]), r["why_a"]
                    ),
                    *scr.kin_steps(r["official"], r["nodes"], r["via"]),
                    identity_evidence(
                        y, r["relative"], str(hb["name"]), hb["key"], float(r["mb"]), r["why_b"]
                    ),
                    *(holder_step(h) for h in rb.values()),
                ],
            }
        )
    return out


def _shared_contacts(
    scr: Screening, orgs: pd.Index, wanted: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The same phone, e-mail or address down to the room in the supplier table."""
    out: list[dict[str, Any]] = []
    if "suppliers" in scr.keyed:
        su = scr.keyed["suppliers"]
        rows = [i for org in orgs for i in scr.supplier_rows.get(org, [])]
        su = su.iloc[sorted(rows)]
        for what, col in (("phone", "phone"), ("email", "email"), ("address", "address")):
            if col not in su:
                continue
            keyed = su.assign(_c=su[col].map(lambda v, w=what: contact_key(w, v))).dropna(
                subset=["_c"]
            )
            joined = keyed.merge(keyed, on="_c", suffixes=("_a", "_b"))
            joined = joined[joined["org_key_a"] < joined["org_key_b"]]
            for j in joined.to_dict("records"):
                if (j["org_key_a"], j["org_key_b"]) not in wanted:
                    continue
                label = CONTACT_LABELS[what]
                out.append(
                    {
                        "a": j["org_key_a"],
                        "b": j["org_key_b"],
                        "kind": "contact",
                        "label": (
                            f"{j['supplier_name_a']}与{j['supplier_name_b']}的{label}相同"
                            f"（{j[f'{col}_a']}）"
                        ),
                        "confidence": 1.0,
                        "evidence": [
                            EvidenceStep(
                                kind="contact",
                                text=(
                                    f"供应商登记：{j[f'supplier_name_{s}']} {label} "
                                    f"{j[f'{col}_{s}']}"
                                ),
                                source=SourceRef(
                                    str(j[f"_file_{s}"]), int(j[f"_row_{s}"]), "suppliers"
                                ),
                            )
                            for s in ("a", "b")
                        ],
                    }
                )
    return out
