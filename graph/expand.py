"""Batch kin expansion: every official's relatives within the legal categories, by joins.

The link table holds one row per known kin link (a declaration or a registry record): ``src``
and ``dst`` person keys and the path ``code`` from src to dst (``w,ob`` for 大舅子). Expanding
from the officials is a relational join repeated up to ``max_hops`` times, each hop composing
the codes; classifying a composed code goes through a cache keyed by the distinct codes (a few
hundred), never through a per-official graph search. networkx (graph.build) serves the
explanations of single paths; this module serves the screening.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from graph.kinship import (
    CLOSENESS,
    Classification,
    Path,
    Sex,
    Step,
    classify_path,
    closest_other,
    code_of,
    parse_code,
)

NEAR = ("本人", "配偶", "直系血亲", "三代以内旁系血亲", "近姻亲")
LINK_COLUMNS = ["link_id", "src", "dst", "code", "src_sex"]
SAME = ""  # the code of an identity link: two keys the resolver believes are one person


def invert(path: Path, src_sex: Sex) -> Path:
    """The path from the far end back to the start: 岳父 (w,f) seen from him is 女婿 (d,h)."""
    sexes: list[Sex] = [src_sex, *(s.sex for s in path)]
    out: list[Step] = []
    for i in range(len(path) - 1, -1, -1):
        s, back_sex = path[i], sexes[i]
        kind = {"parent": "child", "child": "parent"}.get(s.kind, s.kind)
        age = (
            {"older": "younger", "younger": "older"}.get(s.age or "")
            if s.kind == "sibling"
            else None
        )
        out.append(Step(kind, back_sex, age, s.fictive))  # type: ignore[arg-type]
    return tuple(out)


def with_inverses(links: pd.DataFrame) -> pd.DataFrame:
    """The links plus, for each, the link read the other way (a registry record of A's
    brother B is also a record of B's sibling A). Inverted rows keep the same link_id."""
    inverse_codes = {
        (code, sex): code if code == SAME else code_of(invert(parse_code(code), sex))
        for code, sex in links[["code", "src_sex"]].drop_duplicates().itertuples(index=False)
    }
    inv = pd.DataFrame(
        {
            "link_id": links["link_id"].to_numpy(),
            "src": links["dst"].to_numpy(),
            "dst": links["src"].to_numpy(),
            "code": [
                inverse_codes[(c, s)] for c, s in zip(links["code"], links["src_sex"], strict=True)
            ],
            "src_sex": links.get("dst_sex", pd.Series(None, index=links.index)).to_numpy(),
            "conf": links.get("conf", pd.Series(1.0, index=links.index)).to_numpy(),
            "inverted": True,
        }
    )
    forward = links.assign(inverted=False)
    return pd.concat([forward, inv], ignore_index=True)


@dataclass
class _Classifier:
    """Classification of composed codes, cached by (code, speaker sex)."""

    cache: dict[tuple[str, Sex], tuple[str, str, str]]

    def __call__(self, code: str, sex: Sex) -> tuple[str, str, str]:
        key = (code, sex)
        hit = self.cache.get(key)
        if hit is None:
            alternatives = classify_path(parse_code(code), sex, distinct=True)
            hit = _summarise(alternatives)
            self.cache[key] = hit
        return hit


def _summarise(alternatives: tuple[Classification, ...]) -> tuple[str, str, str]:
    """(category, detail, simplified code) of a composed path's closest reading."""
    if len(alternatives) == 1 and not alternatives[0].path:
        return "本人", "", ""  # only identity links so far: the official under another key
    best = closest_other(alternatives)
    if best is None:
        return "不成立", "", ""
    return best.category, best.detail, best.code


EXPANSION_COLUMNS = [
    "official",
    "relative",
    "code",
    "simple",
    "category",
    "detail",
    "hops",
    "via",
    "nodes",
    "conf",
]


def expand(
    officials: pd.DataFrame, links: pd.DataFrame, *, max_hops: int = 3, max_same: int = 2
) -> pd.DataFrame:
    """Every person within the legal categories of each official.

    ``officials``: columns ``key`` (person key) and ``sex`` (男/女/None).
    ``links``: columns ``link_id``, ``src``, ``dst``, ``code``, ``src_sex`` (and ``dst_sex``,
    and ``conf``, the confidence of the link, 1.0 where absent). A link whose code is empty
    (:data:`SAME`) is an identity link: the resolver's belief that two keys are one person;
    it adds no kin step and at most ``max_same`` of them are used on one path.
    Returns one row per (official, relative) with the closest category found: ``official``,
    ``relative``, ``code`` (composed), ``simple`` (simplified), ``category``, ``detail``,
    ``hops``, ``via`` (the link ids, in order), ``nodes`` (the keys passed through, from the
    official) and ``conf`` (the product of the links' confidences). Among paths of the same
    category the most certain, then the shortest, is kept. The official's own other keys
    (reached by identity links only) come back with category 本人.
    """
    classify = _Classifier({})
    if "conf" not in links:
        links = links.assign(conf=1.0)
    edges = with_inverses(links)[["src", "dst", "code", "link_id", "conf"]]
    steps = max_hops + max_same
    # the path is kept as columns n0..nk (keys passed through) and v1..vk (link ids): a
    # revisit is a vectorised comparison, never a per-row tuple
    frontier = pd.DataFrame(
        {
            "official": officials["key"].to_numpy(),
            "person": officials["key"].to_numpy(),
            "sex": officials["sex"].to_numpy(),
            "code": "",
            "conf": 1.0,
            "same": 0,
            "hops": 0,
            "n0": officials["key"].to_numpy(),
        }
    )
    found: list[pd.DataFrame] = []
    for step in range(1, steps + 1):
        joined = frontier.merge(edges, left_on="person", right_on="src", suffixes=("", "_link"))
        if joined.empty:
            break
        dst = joined["dst"].to_numpy()
        fresh = np.ones(len(joined), dtype=bool)
        for i in range(step):  # a path never returns to someone already on it
            fresh &= joined[f"n{i}"].to_numpy() != dst
        identity = (joined["code_link"] == SAME).to_numpy()
        same = joined["same"].to_numpy() + identity
        kin_hops = joined["hops"].to_numpy() + ~identity
        joined = joined[fresh & (same <= max_same) & (kin_hops <= max_hops)]
        if joined.empty:
            break
        identity = (joined["code_link"] == SAME).to_numpy()
        code = np.where(
            identity,
            joined["code"],
            np.where(
                joined["code"] == "",
                joined["code_link"],
                joined["code"] + "," + joined["code_link"],
            ),
        )
        sexes = joined["sex"].to_numpy()
        keys = pd.DataFrame({"code": code, "sex": sexes})
        distinct = keys.drop_duplicates()
        labels = pd.DataFrame(
            [
                (
                    c,
                    s,
                    *classify(c, None if s is None or (isinstance(s, float) and pd.isna(s)) else s),
                )
                for c, s in distinct.itertuples(index=False)
            ],
            columns=["code", "sex", "category", "detail", "simple"],
        )
        summary = keys.merge(labels, on=["code", "sex"], how="left")
        result = pd.DataFrame(
            {
                "official": joined["official"].to_numpy(),
                "person": joined["dst"].to_numpy(),
                "sex": sexes,
                "code": code,
                "category": summary["category"].to_numpy(),
                "detail": summary["detail"].to_numpy(),
                "simple": summary["simple"].to_numpy(),
                "hops": joined["hops"].to_numpy() + ~identity,
                "conf": joined["conf"].to_numpy() * joined["conf_link"].to_numpy(),
                "same": joined["same"].to_numpy() + identity,
                **{f"n{i}": joined[f"n{i}"].to_numpy() for i in range(step)},
                f"n{step}": joined["dst"].to_numpy(),
                **{f"v{i}": joined[f"v{i}"].to_numpy() for i in range(1, step)},
                f"v{step}": joined["link_id"].to_numpy(),
            }
        )
        near = result[result["category"].isin(NEAR)]
        found.append(near)
        # only near relatives are expanded further: the legal categories never pass through
        # someone outside them (a cousin's child's parent is the cousin, reached directly)
        frontier = near.drop(columns=["category", "detail", "simple"]).drop_duplicates(
            subset=["official", "person", "code"]
        )
    if not found:
        return pd.DataFrame(columns=EXPANSION_COLUMNS)
    out = pd.concat(found, ignore_index=True)
    out = out[out["person"] != out["official"]].rename(columns={"person": "relative"})
    out["rank"] = out["category"].map(CLOSENESS)
    out["neg_conf"] = -out["conf"]
    out = out.sort_values(
        ["official", "relative", "rank", "neg_conf", "hops", "code"], kind="stable"
    )
    out = out.drop_duplicates(subset=["official", "relative"], keep="first")
    # the path as tuples, built once for the rows kept
    names = [str(c) for c in out.columns]
    n_cols = sorted((c for c in names if re.fullmatch(r"n\d+", c)), key=lambda c: int(c[1:]))
    v_cols = sorted((c for c in names if re.fullmatch(r"v\d+", c)), key=lambda c: int(c[1:]))
    nodes = out[n_cols].to_numpy(dtype=object)
    via = out[v_cols].to_numpy(dtype=object)
    out["nodes"] = [tuple(x for x in row if isinstance(x, str)) for row in nodes]
    out["via"] = [tuple(x for x in row if isinstance(x, str)) for row in via]
    return out[EXPANSION_COLUMNS].reset_index(drop=True)
