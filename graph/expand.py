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


def compose_code(left: str, right: str) -> str:
    """The code of a path (``left``) followed by a kin link (``right``)."""
    return right if left == SAME else f"{left},{right}"


def inverse_code(code: str, src_sex: Sex) -> str:
    """The code of a link read from its far end (an identity link stays one)."""
    return code if code == SAME else code_of(invert(parse_code(code), src_sex))


def with_inverses(links: pd.DataFrame) -> pd.DataFrame:
    """The links plus, for each, the link read the other way (a registry record of A's
    brother B is also a record of B's sibling A). Inverted rows keep the same link_id."""
    inverse_codes = {
        (code, sex): inverse_code(code, sex)
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


def classify_code(code: str, sex: Sex) -> tuple[str, str, str]:
    """(category, detail, simplified code) of a composed path code spoken by someone of
    ``sex``: its closest reading (every engine classifies paths with this function)."""
    return _summarise(classify_path(parse_code(code), sex, distinct=True))


@dataclass
class _Classifier:
    """Classification of composed codes, cached by (code, speaker sex)."""

    cache: dict[tuple[str, Sex], tuple[str, str, str]]

    def __call__(self, code: str, sex: Sex) -> tuple[str, str, str]:
        key = (code, sex)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = classify_code(code, sex)
        return hit


def _summarise(alternatives: tuple[Classification, ...]) -> tuple[str, str, str]:
    """(category, detail, simplified code) of a composed path's closest reading."""
    if len(alternatives) == 1 and not alternatives[0].path:
        return "本人", "", ""  # only identity links so far: the official under another key
    best = closest_other(alternatives)
    if best is None:
        return "不成立", "", ""
    return best.category, best.detail, best.code


def _tuples(matrix: np.ndarray) -> np.ndarray:
    """Each row of a 2-D object array as a tuple, in a 1-D object array."""
    return np.fromiter(zip(*matrix.T, strict=True), dtype=object, count=len(matrix))


_SEXES = {"男": 1, "女": 2}
_SEX_OF: tuple[Sex, ...] = (None, "男", "女")


class _Codes:
    """The distinct path codes met, by number: composing and classifying a code is done
    once per distinct (code, link code) or (code, speaker sex), never per path."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._strings: list[str] = []
        self._composed: dict[tuple[int, int], int] = {}

    def copy(self) -> _Codes:
        """A table of its own for one walk (walks intern the codes they compose), numbering
        the codes met so far as this one does."""
        other = _Codes()
        other._ids, other._strings = dict(self._ids), list(self._strings)
        other._composed = dict(self._composed)
        return other

    def intern(self, code: str) -> int:
        i = self._ids.get(code)
        if i is None:
            i = self._ids[code] = len(self._strings)
            self._strings.append(code)
        return i

    def strings(self) -> np.ndarray:
        return np.array(self._strings, dtype=object)

    def rank(self) -> np.ndarray:
        """Each code's position in the codes' sorted order."""
        out = np.empty(len(self._strings), dtype=np.int64)
        out[np.argsort(np.array(self._strings, dtype=str), kind="stable")] = np.arange(
            len(self._strings)
        )
        return out

    def compose(self, code: np.ndarray, link: np.ndarray, identity: np.ndarray) -> np.ndarray:
        """The code of a path followed by one link (an identity link adds no step)."""
        width = np.int64(1 << 32)
        pairs, back = np.unique(code * width + link, return_inverse=True)
        table = np.empty(len(pairs), dtype=np.int64)
        for j, pair in enumerate(pairs.tolist()):
            a, b = divmod(pair, int(width))
            hit = self._composed.get((a, b))
            if hit is None:
                left, right = self._strings[a], self._strings[b]
                hit = self._composed[(a, b)] = self.intern(compose_code(left, right))
            table[j] = hit
        return np.where(identity, code, table[back.reshape(-1)])

    def classify(
        self, code: np.ndarray, sex: np.ndarray, classifier: _Classifier
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(category, detail, simplified code) of each path, as object arrays."""
        pairs, back = np.unique(code * 4 + sex, return_inverse=True)
        labels = np.empty((len(pairs), 3), dtype=object)
        for j, pair in enumerate(pairs.tolist()):
            c, s = divmod(pair, 4)
            labels[j] = classifier(self._strings[c], _SEX_OF[s])
        back = back.reshape(-1)
        return labels[back, 0], labels[back, 1], labels[back, 2]


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
    officials: pd.DataFrame,
    links: pd.DataFrame,
    *,
    max_hops: int = 3,
    max_same: int = 2,
    targets: pd.Index | None = None,
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
    category the most certain, then the shortest, then the one whose code sorts first is
    kept (then the one met first). The official's own other keys (reached by identity links
    only) come back with category 本人. ``targets``: only relatives among these keys are
    returned (paths still pass through anyone).
    """
    return KinGraph(links).expand(officials, max_hops=max_hops, max_same=max_same, targets=targets)


class KinGraph:
    """The links in integers, built once and walked from any set of people (:func:`expand`
    builds one per call): person keys and link ids by their position in sorted tables, codes
    by their position in a table of the distinct codes met; a hop is a lookup in the edges
    sorted by source. Walks do not change it (each composes codes in a copy of the table):
    one graph serves concurrent walks."""

    def __init__(self, links: pd.DataFrame) -> None:
        if "conf" not in links:
            links = links.assign(conf=1.0)
        edges = with_inverses(links)
        key_of, people = pd.factorize(
            np.concatenate(
                [edges["src"].to_numpy(dtype=object), edges["dst"].to_numpy(dtype=object)]
            ),
            sort=True,
        )
        self.people = pd.Index(people)
        n_edge = len(edges)
        src = key_of[:n_edge]
        link, self.link_ids = pd.factorize(edges["link_id"].to_numpy(dtype=object))
        self.codes = _Codes()
        # each composed code's reading by speaker sex, shared by every walk of this graph:
        # classifying a code is the walk's costliest step (a pre-award check's kin walk from
        # a few people took 40-70 ms, nearly all of it classifying codes earlier walks had)
        self.classified: dict[tuple[str, Sex], tuple[str, str, str]] = {}
        code = np.array([self.codes.intern(c) for c in edges["code"]], dtype=np.int64)
        order = np.argsort(src, kind="stable")  # each person's links in their given order
        self.dst = key_of[n_edge:][order]
        self.link = link[order]
        self.code = code[order]
        self.conf = edges["conf"].to_numpy(dtype=float)[order]
        self.start = np.searchsorted(src[order], np.arange(len(self.people) + 1))

    def expand(
        self,
        officials: pd.DataFrame,
        *,
        max_hops: int = 3,
        max_same: int = 2,
        targets: pd.Index | None = None,
    ) -> pd.DataFrame:
        """:func:`expand` on this graph (officials in no link have no relatives)."""
        at = self.people.get_indexer(officials["key"].to_numpy(dtype=object))
        linked = at >= 0
        sexes = np.array([_SEXES.get(s, 0) for s in officials["sex"]], dtype=np.int8)
        walk = _Walk(self, at[linked], sexes[linked])
        found = walk.paths(max_hops=max_hops, max_same=max_same)
        if targets is not None:
            wanted = self.people.get_indexer(targets)
            wanted = wanted[wanted >= 0]
            ends = [np.isin(s["n"][:, -1], wanted) for s in found]  # once a step, not a column
            found = [{k: v[end] for k, v in s.items()} for s, end in zip(found, ends, strict=True)]
            found = [s for s in found if len(s["code"])]
        if not found:
            return pd.DataFrame(columns=EXPANSION_COLUMNS)
        return walk.closest(found)


class _Walk:
    """One walk on a :class:`KinGraph` from some of its people (``officials``: positions,
    ``sexes``: 0/1/2), a path a matrix of positions (``n``: the people passed through,
    ``v``: the links)."""

    def __init__(self, graph: KinGraph, officials: np.ndarray, sexes: np.ndarray) -> None:
        self.people, self.link_ids = graph.people, graph.link_ids
        self.dst, self.link, self.code, self.conf = graph.dst, graph.link, graph.code, graph.conf
        self.start = graph.start
        self.codes = graph.codes.copy()
        self.classify = _Classifier(graph.classified)
        self.officials = officials.astype(np.int64)
        self.sexes = sexes

    def paths(self, *, max_hops: int, max_same: int) -> list[dict[str, np.ndarray]]:
        """Every path to a near relative, step by step (one dict of arrays per step)."""
        same_code = self.codes.intern(SAME)
        n = len(self.officials)
        f: dict[str, np.ndarray] = {
            "official": self.officials,
            "sex": self.sexes,
            "code": np.full(n, same_code, dtype=np.int64),
            "conf": np.ones(n),
            "same": np.zeros(n, dtype=np.int64),
            "hops": np.zeros(n, dtype=np.int64),
            "n": self.officials.reshape(-1, 1),
            "v": np.zeros((n, 0), dtype=np.int64),
        }
        found: list[dict[str, np.ndarray]] = []
        for _ in range(max_hops + max_same):
            person = f["n"][:, -1]
            counts = self.start[person + 1] - self.start[person]
            row = np.repeat(np.arange(len(person)), counts)
            if len(row) == 0:
                break
            e = np.repeat(self.start[person] - np.cumsum(counts) + counts, counts) + np.arange(
                len(row)
            )
            dst = self.dst[e]
            identity = self.code[e] == same_code
            same = f["same"][row] + identity
            hops = f["hops"][row] + ~identity
            # a path never returns to someone already on it
            keep = (f["n"][row] != dst[:, None]).all(axis=1) & (same <= max_same)
            keep &= hops <= max_hops
            if not keep.any():
                break
            row, e, identity = row[keep], e[keep], identity[keep]
            code = self.codes.compose(f["code"][row], self.code[e], identity)
            category, detail, simple = self.codes.classify(code, f["sex"][row], self.classify)
            # only near relatives are kept and expanded further: the legal categories never
            # pass through someone outside them (a cousin's child's parent is the cousin,
            # reached directly)
            near = np.isin(category, NEAR)
            row, e = row[near], e[near]
            step = {
                "official": f["official"][row],
                "sex": f["sex"][row],
                "code": code[near],
                "category": category[near],
                "detail": detail[near],
                "simple": simple[near],
                "hops": hops[keep][near],
                "conf": f["conf"][row] * self.conf[e],
                "same": same[keep][near],
                "n": np.column_stack([f["n"][row], self.dst[e]]),
                "v": np.column_stack([f["v"][row], self.link[e]]),
            }
            found.append(step)
            unique = (
                ~pd.DataFrame({"o": step["official"], "p": step["n"][:, -1], "c": step["code"]})
                .duplicated()
                .to_numpy()
            )
            f = {k: v[unique] for k, v in step.items()}
        return found

    def closest(self, found: list[dict[str, np.ndarray]]) -> pd.DataFrame:
        """One row per (official, relative): the closest category, then the most certain,
        the shortest, the code that sorts first, the path met first."""

        def column(name: str) -> np.ndarray:
            return np.concatenate([s[name] for s in found])

        off, code, category = column("official"), column("code"), column("category")
        rel = np.concatenate([s["n"][:, -1] for s in found])
        conf, hops = column("conf"), column("hops")
        rank = pd.Series(category).map(CLOSENESS).to_numpy()
        order = np.lexsort((self.codes.rank()[code], hops, -conf, rank, rel, off))
        order = order[(rel != off)[order]]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (off[order][1:] != off[order][:-1]) | (rel[order][1:] != rel[order][:-1])
        order = order[first]
        names = np.asarray(self.people, dtype=object)
        ids = np.asarray(self.link_ids, dtype=object)
        nodes = np.empty(len(order), dtype=object)
        via = np.empty(len(order), dtype=object)
        step_of = np.concatenate([np.full(len(s["code"]), i) for i, s in enumerate(found)])
        row_in = np.concatenate([np.arange(len(s["code"])) for s in found])
        kept_step, kept_row = step_of[order], row_in[order]
        for i, s in enumerate(found):
            at = np.flatnonzero(kept_step == i)
            nodes[at] = _tuples(names[s["n"][kept_row[at]]])
            via[at] = _tuples(ids[s["v"][kept_row[at]]])
        columns = {
            "official": names[off[order]],
            "relative": names[rel[order]],
            "code": self.codes.strings()[code[order]],
            "simple": column("simple")[order],
            "category": category[order],
            "detail": column("detail")[order],
            "hops": hops[order],
            "via": via,
            "nodes": nodes,
            "conf": conf[order],
        }
        # the arrays as they are: no type inference, no copy into one block
        return pd.DataFrame(columns, copy=False)
