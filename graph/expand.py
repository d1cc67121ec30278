"""Batch kin expansion: every official's relatives within the legal categories, by joins.

The link table holds one row per known kin link (a declaration or a registry record): ``src``
and ``dst`` person keys and the path ``code`` from src to dst (``w,ob`` for 大舅子). Expanding
from the officials is a relational join repeated up to ``max_hops`` times, each hop composing
the codes; classifying a composed code goes through a cache keyed by the distinct codes (a few
hundred), never through a per-official graph search. networkx (graph.build) serves the
explanations of single paths; this module serves the screening.
"""

from __future__ import annotations

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
    frontier = pd.DataFrame(
        {
            "official": officials["key"].to_numpy(),
            "person": officials["key"].to_numpy(),
            "sex": officials["sex"].to_numpy(),
            "code": "",
            "via": [()] * len(officials),
            "nodes": [(k,) for k in officials["key"]],
            "conf": 1.0,
            "same": 0,
            "hops": 0,
        }
    )
    found: list[pd.DataFrame] = []
    for _ in range(max_hops + max_same):
        step = frontier.merge(edges, left_on="person", right_on="src", suffixes=("", "_link"))
        # a path never returns to someone already on it (the link read backwards included)
        fresh = [d not in nodes for d, nodes in zip(step["dst"], step["nodes"], strict=True)]
        identity = (step["code_link"] == SAME).to_numpy()
        same = step["same"].to_numpy() + identity
        kin_hops = step["hops"].to_numpy() + ~identity
        step = step[np.array(fresh, dtype=bool) & (same <= max_same) & (kin_hops <= max_hops)]
        identity = (step["code_link"] == SAME).to_numpy()
        if step.empty:
            break
        code = np.where(
            identity,
            step["code"],
            np.where(step["code"] == "", step["code_link"], step["code"] + "," + step["code_link"]),
        )
        pairs = pd.DataFrame({"code": code, "sex": step["sex"].to_numpy()})
        distinct = pairs.drop_duplicates()
        labels = {
            (c, s): classify(c, None if pd.isna(s) else s)
            for c, s in distinct.itertuples(index=False)
        }
        summary = [labels[(c, s)] for c, s in zip(pairs["code"], pairs["sex"], strict=True)]
        result = pd.DataFrame(
            {
                "official": step["official"].to_numpy(),
                "relative": step["dst"].to_numpy(),
                "sex": step["sex"].to_numpy(),
                "code": code,
                "category": [x[0] for x in summary],
                "detail": [x[1] for x in summary],
                "simple": [x[2] for x in summary],
                "hops": step["hops"].to_numpy() + ~identity,
                "via": [(*v, lid) for v, lid in zip(step["via"], step["link_id"], strict=True)],
                "nodes": [(*n, d) for n, d in zip(step["nodes"], step["dst"], strict=True)],
                "conf": step["conf"].to_numpy() * step["conf_link"].to_numpy(),
                "same": step["same"].to_numpy() + identity,
            }
        )
        near = result[result["category"].isin(NEAR)]
        found.append(near)
        # only near relatives are expanded further: the legal categories never pass through
        # someone outside them (a cousin's child's parent is the cousin, reached directly)
        frontier = near.rename(columns={"relative": "person"})[
            ["official", "person", "sex", "code", "via", "nodes", "conf", "same", "hops"]
        ].drop_duplicates(subset=["official", "person", "code"])
    if not found:
        return pd.DataFrame(columns=EXPANSION_COLUMNS)
    out = pd.concat(found, ignore_index=True)
    out = out[out["relative"] != out["official"]]
    out["rank"] = out["category"].map(CLOSENESS)
    out["neg_conf"] = -out["conf"]
    out = out.sort_values(
        ["official", "relative", "rank", "neg_conf", "hops", "code"], kind="stable"
    )
    out = out.drop_duplicates(subset=["official", "relative"], keep="first")
    return out[EXPANSION_COLUMNS].reset_index(drop=True)
