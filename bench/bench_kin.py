"""Batch kin expansion at city scale: 30,000 officials over 300,000 registry links.

    make bench-kin        # or: .venv/bin/python bench/bench_kin.py [--officials N]

Each official gets a family in the registry (spouse, parents, a grandfather, siblings and
their spouses, an uncle, the spouse's parents and siblings, children and their spouses):
about ten links an official. The expansion (graph.expand) is timed three hops deep against
a baseline in the same run: the bare pandas merges of the same three hops, unclassified.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time

import pandas as pd

from graph.expand import NEAR, expand, with_inverses


def make_links(n_officials: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = random.Random(seed)
    rows: list[tuple[str, str, str, str, str]] = []
    sexes: list[str] = []
    counter = 0

    def person() -> str:
        nonlocal counter
        counter += 1
        return f"P{counter}"

    def link(a: str, b: str, code: str, a_sex: str, b_sex: str) -> None:
        rows.append((f"L{len(rows)}", a, b, code, a_sex, b_sex))

    keys = []
    for _ in range(n_officials):
        me, sex = person(), rng.choice(["男", "女"])
        keys.append(me)
        sexes.append(sex)
        other = "女" if sex == "男" else "男"
        spouse = person()
        link(me, spouse, "w" if sex == "男" else "h", sex, other)
        father, mother = person(), person()
        link(me, father, "f", sex, "男")
        link(me, mother, "m", sex, "女")
        link(father, person(), "f", "男", "男")  # a grandfather
        if rng.random() < 0.5:
            link(mother, person(), "xb", "女", "男")  # an uncle on the mother's side
        for _ in range(rng.choice([0, 1, 2, 3])):
            sib, ssex = person(), rng.choice(["男", "女"])
            link(father, sib, "s" if ssex == "男" else "d", "男", ssex)
            if rng.random() < 0.5:
                sp = person()
                link(sib, sp, "w" if ssex == "男" else "h", ssex, "女" if ssex == "男" else "男")
        sp_father = person()
        link(spouse, sp_father, "f", other, "男")
        for _ in range(rng.choice([0, 1, 2])):
            sib, ssex = person(), rng.choice(["男", "女"])
            link(sp_father, sib, "s" if ssex == "男" else "d", "男", ssex)
        for _ in range(rng.choice([0, 1, 2])):
            child, csex = person(), rng.choice(["男", "女"])
            link(me, child, "s" if csex == "男" else "d", sex, csex)
            if rng.random() < 0.3:
                link(
                    child,
                    person(),
                    "w" if csex == "男" else "h",
                    csex,
                    "女" if csex == "男" else "男",
                )
    links = pd.DataFrame(rows, columns=["link_id", "src", "dst", "code", "src_sex", "dst_sex"])
    officials = pd.DataFrame({"key": keys, "sex": sexes})
    return officials, links


def baseline(officials: pd.DataFrame, links: pd.DataFrame, hops: int = 3) -> int:
    edges = with_inverses(links)[["src", "dst", "code"]]
    frontier = pd.DataFrame({"official": officials["key"], "person": officials["key"]})
    total = 0
    for _ in range(hops):
        step = frontier.merge(edges, left_on="person", right_on="src")
        total += len(step)
        frontier = step[["official", "dst"]].rename(columns={"dst": "person"}).drop_duplicates()
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officials", type=int, default=30_000)
    args = parser.parse_args()
    officials, links = make_links(args.officials)
    print(f"{len(officials):,} officials, {len(links):,} registry links (2 cores)")
    t = time.perf_counter()
    joined = baseline(officials, links)
    base = time.perf_counter() - t
    t = time.perf_counter()
    out = expand(officials, links, max_hops=3)
    took = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"baseline: 3 hops of bare merges ({joined:,} joined rows): {base:.2f} s")
    print(
        f"expand:   3 hops, classified, pruned to the legal categories: {took:.2f} s "
        f"({took / base:.1f}x baseline), peak RSS {rss:.0f} MiB"
    )
    counts = out["category"].value_counts()
    print("relatives found by category: " + ", ".join(f"{c} {counts.get(c, 0):,}" for c in NEAR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
