"""Batch kin expansion, checked against a per-official graph search (networkx) as reference."""

from __future__ import annotations

import random

import networkx as nx
import pandas as pd
import pytest

import graph.expand as expand_module
from graph.expand import NEAR, KinGraph, expand, invert, with_inverses
from graph.kinship import classify_path, code_of, parse_code


def links_frame(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(f"L{i}", *r) for i, r in enumerate(rows)],
        columns=["link_id", "src", "dst", "code", "src_sex", "dst_sex"],
    )


def test_invert() -> None:
    assert code_of(invert(parse_code("w,f"), "男")) == "d,h"  # 岳父 -> 女婿
    assert code_of(invert(parse_code("ob"), "女")) == "ls"
    assert code_of(invert(parse_code("s,w"), "女")) == "h,m"  # 儿媳 -> 婆婆


def test_declaration_plus_registry_link() -> None:
    # the official declared his wife; the registry knows the wife's brother and his son
    links = links_frame(
        [
            ("S1", "W1", "w", "男", "女"),
            ("W1", "B1", "ob", "女", "男"),
            ("B1", "N1", "s", "男", "男"),
            ("S1", "F1", "f", "男", "男"),
        ]
    )
    out = expand(pd.DataFrame({"key": ["S1"], "sex": ["男"]}), links).set_index("relative")
    assert out.loc["W1", "category"] == "配偶"
    assert out.loc["B1", "category"] == "近姻亲" and out.loc["B1", "via"] == ("L0", "L1")
    assert "N1" not in out.index  # the wife's nephew is not a close relative
    assert out.loc["F1", "category"] == "直系血亲"


def test_inverse_links_are_used() -> None:
    # the registry records the official as somebody's younger brother: that somebody is his
    # elder brother, and the elder brother's wife is a close in-law
    links = links_frame([("B1", "S1", "lb", "男", "男"), ("B1", "X1", "w", "男", "女")])
    out = expand(pd.DataFrame({"key": ["S1"], "sex": ["男"]}), links).set_index("relative")
    assert out.loc["B1", "simple"] == "ob"
    assert out.loc["X1", "category"] == "近姻亲"


def test_a_path_never_returns_through_someone_on_it() -> None:
    links = links_frame(
        [
            ("S1", "W1", "w", "男", "女"),
            ("W1", "F1", "f", "女", "男"),
            ("F1", "B1", "s", "男", "男"),
        ]
    )
    out = expand(pd.DataFrame({"key": ["S1"], "sex": ["男"]}), links).set_index("relative")
    assert out.loc["W1", "category"] == "配偶"  # not "the father-in-law's daughter"
    assert out.loc["B1", "simple"] == "w,xb"


def reference(
    officials: pd.DataFrame, links: pd.DataFrame, hops: int
) -> dict[tuple[str, str], str]:
    """The same question asked one official at a time, walking a networkx graph."""
    g = nx.MultiDiGraph()
    for r in with_inverses(links).itertuples(index=False):
        g.add_edge(r.src, r.dst, code=r.code)
    best: dict[tuple[str, str], str] = {}
    order = {c: i for i, c in enumerate(["配偶", "直系血亲", "三代以内旁系血亲", "近姻亲"])}
    for key, sex in officials.itertuples(index=False):
        stack = [(key, "", (key,))]
        while stack:
            node, code, seen = stack.pop()
            if len(seen) > hops:
                continue
            for _, nxt, data in g.out_edges(node, data=True):
                if nxt in seen:
                    continue
                composed = f"{code},{data['code']}" if code else data["code"]
                alts = [
                    a
                    for a in classify_path(parse_code(composed), sex, distinct=True)
                    if a.category != "本人"
                ]
                cat = min(
                    (a.category for a in alts),
                    key=lambda c: (c not in order, order.get(c, 9)),
                    default=None,
                )
                if cat in NEAR:
                    prev = best.get((key, nxt))
                    if prev is None or order[cat] < order[prev]:
                        best[(key, nxt)] = cat
                    stack.append((nxt, composed, (*seen, nxt)))
    return best


def test_agrees_with_a_graph_search_on_random_families() -> None:
    rng = random.Random(3)
    people = [f"P{i}" for i in range(60)]
    sex = {p: rng.choice(["男", "女"]) for p in people}
    rows = []
    for _ in range(120):
        a, b = rng.sample(people, 2)
        kind = rng.choice(["parent", "child", "spouse", "sibling"])
        code = {
            "parent": {"男": "f", "女": "m"},
            "child": {"男": "s", "女": "d"},
            "spouse": {"男": "h", "女": "w"},
            "sibling": {"男": "xb", "女": "xs"},
        }[kind][sex[b]]
        rows.append((a, b, code, sex[a], sex[b]))
    links = links_frame(rows)
    officials = pd.DataFrame({"key": people[:10], "sex": [sex[p] for p in people[:10]]})
    out = expand(officials, links, max_hops=3)
    got = {(r.official, r.relative): r.category for r in out.itertuples(index=False)}
    assert got == reference(officials, links, 3)


def test_targets_keep_the_rows_of_the_full_expansion_whose_relative_is_a_target() -> None:
    links = links_frame(
        [
            ("S1", "W1", "w", "男", "女"),
            ("W1", "B1", "ob", "女", "男"),
            ("B1", "N1", "s", "男", "男"),
            ("S1", "F1", "f", "男", "男"),
        ]
    )
    officials = pd.DataFrame({"key": ["S1", "B1"], "sex": ["男", "男"]})
    full = expand(officials, links)
    # B1 is reached through W1, who is not a target: paths still pass through anyone
    some = expand(officials, links, targets=pd.Index(["B1", "F1", "N1"]))
    expected = full[full["relative"].isin(["B1", "F1", "N1"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(some, expected)
    assert ("S1", "B1") in set(zip(some["official"], some["relative"], strict=True))
    assert expand(officials, links, targets=pd.Index(["nobody"])).empty


def test_walks_of_one_graph_share_the_readings_of_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A graph kept for many walks (the pre-award check's) reads each composed code once, by
    speaker sex, for all its walks; each walk answers as a walk on a graph of its own does."""
    rng = random.Random(11)
    people = [f"P{i}" for i in range(40)]
    sex = {p: rng.choice(["男", "女"]) for p in people}
    codes = {"parent": "fm", "child": "sd", "spouse": "hw", "sibling": ("xb", "xs")}
    rows = []
    for _ in range(80):
        a, b = rng.sample(people, 2)
        code = codes[rng.choice(list(codes))][0 if sex[b] == "男" else 1]
        rows.append((a, b, code, sex[a], sex[b]))
    links = links_frame(rows)
    starts = [people[:5], people[5:12], people[:12], people[20:]]
    officials = [pd.DataFrame({"key": s, "sex": [sex[p] for p in s]}) for s in starts]
    alone = [KinGraph(links).expand(o) for o in officials]
    graph = KinGraph(links)
    calls: list[tuple[str, object]] = []
    real = expand_module.classify_code
    monkeypatch.setattr(
        expand_module, "classify_code", lambda code, s: calls.append((code, s)) or real(code, s)
    )
    for o, expected in zip(officials, alone, strict=True):
        pd.testing.assert_frame_equal(graph.expand(o), expected)
    assert len(calls) == len(set(calls)) == len(graph.classified) > 0  # each read once
    graph.expand(officials[2])  # the first two walks' people together: nothing new to read
    assert len(calls) == len(graph.classified)
