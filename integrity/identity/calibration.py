"""A stated confidence is the share of such links that are one person.

The resolver's Fellegi–Sunter posterior (the prior's log-odds plus each feature's) is only as
true as its m and u guesses and its prior; measured on generated districts whose truth is known
(drawn with the namesakes a population has) it is not a probability in a project's panel
(over-confident in the middle: links given 0.4–0.6 were one person a quarter of the time) nor
for an official's kin across the roster (under-confident with rarer names). The maps here are
fitted by ``bench/calibration.py --fit --write`` (isotonic regression of "one person" on the
posterior, on districts other than those it is measured on) and applied to every link decided
by names; a link decided by resident ID numbers (1 or 0) is not touched. The roster's map is
the identity: its posterior is calibrated already, and a map fitted on one roster size made
another worse (bench/README.md, "Calibrated identity").

How often a name match is one person depends on how crowded the names are: in a district
whose people share their names, a match on a name alone is much weaker than where every name
is carried once. The data measures that itself: the **namesake rate**, the chance that two of
its people whom valid ID numbers tell apart carry the same name (:func:`namesake_rate`, smoothed
towards a guess where few people carry numbers). A fitted context holds one map per level of
that rate (each fitted on districts at that level, then raised where a more crowded level
states more: a name match never weighs less because names crowd less); the map a screening
uses is interpolated between the two levels around its own rate, on a log scale, and is the
nearest level's beyond the ends. A context qualified with its rate reads ``panel@2.5e-06``
(:func:`qualified`); an unqualified one uses the most crowded level, the most sceptical; a
context of one level (the roster's) is never qualified.

How often a link is one person also depends on whether the two names are written alike, and
on whether the data shows the name carried by more than one person. In a district whose names
are each carried once, two records written 王芳 are the same person while 王丽 and 王莉 are
often two people; the posterior weighs a homophone or a one-character difference as a fraction
of an exact match and cannot tell the two apart at the same value. But where two of the data's
people whom valid ID numbers tell apart are both called 王芳 (two officials, say), a third 王芳
is not known to be either, however uncrowded the rest of the names. So a fitted context's map
is fitted on the pairs whose normalised names are alike and carried by at most one such person
(:func:`pair_kinds`: ``alike``), and every other pair (names written differently, or a name the
data shows shared: :func:`shared_names`) is stated by a second set of levels (``panel/variant``,
:func:`current` with ``variant=True``), the map of all pairs, never above the first. Too few
pairs written differently are one person in the fitting districts to fit a map on them alone
(5 of 385; none above a posterior of 0.41: a map of them would cap a homophone with the same
birth date and phone where the data ends). A context without them states every kind alike.

The knots live in ``calibration.json`` beside this module, with what they were fitted on. The
map is monotone, so a floor the callers set on the stated confidence is a floor on the
posterior too (:meth:`Calibration.raw_floor`, :func:`raw_floor` over both kinds: the blocking
prunes against it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")

# a link decided by names is never stated as certain, nor as impossible: 1 and 0 say that two
# valid ID numbers agree or differ. At most 0.99: the few hundred links the panel and kin maps
# are fitted on above a posterior of 0.9 cannot tell 99% from 100%
NAME_ONLY_MAX = 0.99
NAME_ONLY_MIN = 0.0001

# the reason a finding shows for the map's part of the confidence
CALIBRATION_LABEL = "校准：同类比对中实为同一人的比例"
# a map's part smaller than this (bits) is not shown as a reason
SHOWN_BITS = 0.05

# the contexts a link is judged in, each with its own map (measured apart, they need different
# ones): one project's decision-makers and their kin against the awarded supplier's holders
# (avoidance, and the links a rule judges where the official decided); an official's kin
# against the holders of a street's or the whole roster's suppliers (related_supplier,
# undeclared_relation); and two rosters' mentions linked as such (the kin bridges,
# organisations' people, a city's roster-to-roster linkage)
PANEL = "panel"
KIN = "kin"
ROSTER = "roster"
CONTEXTS = (PANEL, KIN, ROSTER)
# the maps of a context's pairs not stated by its map of names alike (names written differently:
# homophones, a character apart, transliteration variants; or a name the data shows shared) are
# stored under ``<context>/variant``
VARIANT = "variant"
# a pair's kind (:func:`pair_kinds`): which map states it, and what its reason says of that
ALIKE = "alike"  # written alike, a name at most one of the data's numbered people carries
DIFFERENT = "different"  # written differently (or a name missing)
SHARED = "shared"  # written alike, but the data's people with valid numbers share the name
KIND_NOTES = {ALIKE: "", DIFFERENT: "（姓名写法不同的比对）", SHARED: "（本数据中有多人同名）"}


@dataclass(frozen=True)
class Calibration:
    """A monotone piecewise-linear map from the posterior to the stated confidence, through
    the origin below its first knot (a posterior below what was fitted is stated in
    proportion, not at the first knot's share: a pair the names all but rule out stays all
    but ruled out) and constant beyond its last, the result kept within [NAME_ONLY_MIN,
    NAME_ONLY_MAX] unless ``capped`` is off (the bench measuring the posterior itself)."""

    raw: tuple[float, ...]
    calibrated: tuple[float, ...]
    capped: bool = True

    @classmethod
    def from_knots(
        cls, raw: Sequence[float] | np.ndarray, calibrated: Sequence[float] | np.ndarray
    ) -> Calibration:
        x = np.asarray(raw, dtype=float)
        y = np.asarray(calibrated, dtype=float)
        if len(x) < 2 or len(x) != len(y) or np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
            raise ValueError("calibration knots must be at least two, both non-decreasing")
        if x[0] < 0 or x[-1] > 1 or y[0] < 0 or y[-1] > 1:
            raise ValueError("calibration knots must lie in [0, 1]")
        return cls(tuple(round(float(v), 6) for v in x), tuple(round(float(v), 6) for v in y))

    @cached_property
    def knots(self) -> tuple[np.ndarray, np.ndarray]:
        """(raw, calibrated) as arrays, the origin first where the first knot is above it."""
        x, y = np.asarray(self.raw, dtype=float), np.asarray(self.calibrated, dtype=float)
        if x[0] > 0:
            x, y = np.r_[0.0, x], np.r_[0.0, y]
        return x, y

    def __call__(self, p: Any) -> np.ndarray:
        """The stated confidence of each posterior ``p`` (array or scalar)."""
        out: np.ndarray = np.interp(np.asarray(p, dtype=float), *self.knots)
        return np.clip(out, NAME_ONLY_MIN, NAME_ONLY_MAX) if self.capped else out

    def one(self, p: float) -> float:
        out = float(np.interp(p, *self.knots))
        return min(max(out, NAME_ONLY_MIN), NAME_ONLY_MAX) if self.capped else out

    def raw_floor(self, floor: float) -> float:
        """The least posterior whose stated confidence reaches ``floor`` (a pair below it
        cannot reach the floor: the blocking need not make it); 1.0 where none does."""
        x, y = self.knots
        low = y[0] if not self.capped else max(y[0], NAME_ONLY_MIN)
        high = y[-1] if not self.capped else min(y[-1], NAME_ONLY_MAX)
        if floor <= low:
            return 0.0  # every posterior is stated at least that
        if floor > high:
            return 1.0
        return _first(x, y, floor)

    def as_json(self) -> dict[str, list[float]]:
        return {"raw": list(self.raw), "calibrated": list(self.calibrated)}


def _first(x: np.ndarray, y: np.ndarray, floor: float) -> float:
    """Where the piecewise-linear (x, y) first reaches ``floor`` (y[0] < floor <= y[-1])."""
    i = int(np.argmax(y >= floor))  # the first knot at or above: y[i-1] < floor <= y[i]
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(x0 + (x1 - x0) * (floor - y0) / (y1 - y0)) if y1 > y0 else float(x1)


def reason(
    p: float, stated: float, context: str = "", *, kind: str = ALIKE
) -> tuple[str, float] | None:
    """The map's part of a stated confidence as a reason (log-odds, bits), so that a finding's
    reasons add up to what it states; None where the map changed next to nothing. Where the
    context carries the data's namesake rate, the label says it in words (what chose the
    map: a name match weighs more where names rarely repeat); where the map of all pairs
    stated it, the label says why (``kind``: the names written differently, or shared)."""
    bits = _logit(stated) - _logit(p)
    if abs(bits) < SHOWN_BITS:
        return None
    _, _, rate = context.partition(QUALIFIER)
    label = CALIBRATION_LABEL
    if kind != ALIKE and has_variant(context):
        label += KIND_NOTES[kind]
    if rate:
        label += f"，本数据中两人同名的机会{_per_million(float(rate))}"
    return (label, round(bits, 2))


def _per_million(rate: float) -> str:
    """A namesake rate in words: 约百万分之1.3, 约百万分之33, 不足百万分之0.1."""
    tenths = round(rate * 1e6, 1)
    if tenths < 0.1:
        return "不足百万分之0.1"
    return f"约百万分之{tenths:.1f}" if tenths < 10 else f"约百万分之{round(rate * 1e6):d}"


def write(
    maps: dict[str, Calibration | Levels], *, fitted_on: str, path: Path | None = None
) -> None:
    """The maps as JSON, one line per list (a refit reads as a diff of knots)."""

    def knots(m: Calibration, indent: str) -> str:
        return (
            f'{indent}"raw": {json.dumps(m.as_json()["raw"])},\n'
            f'{indent}"calibrated": {json.dumps(m.as_json()["calibrated"])}'
        )

    rows = []
    for k, given in maps.items():
        # one level: a plain map
        m = given.maps[0] if isinstance(given, Levels) and len(given.maps) == 1 else given
        if isinstance(m, Calibration):
            rows.append(f'  "{k}": {{\n{knots(m, "   ")}\n  }}')
            continue
        each = [
            f'    {{"namesake_rate": {r:.6g},\n{knots(one, "     ")}}}'
            for r, one in zip(m.rates, m.maps, strict=True)
        ]
        rows.append(f'  "{k}": {{"levels": [\n' + ",\n".join(each) + "\n  ]}")
    text = f'{{\n "fitted_on": {json.dumps(fitted_on, ensure_ascii=False)},\n "maps": {{\n'
    text += ",\n".join(rows) + "\n }\n}\n"
    json.loads(text)  # well-formed before it is written
    (path or CALIBRATION_FILE).write_text(text, encoding="utf-8")


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


# the posterior as it is: what bench/calibration.py measures and fits on
IDENTITY = Calibration((0.0, 1.0), (0.0, 1.0), capped=False)


# a namesake rate below this is read as this (log scale)
RATE_FLOOR = 1e-9
# how often two people share a full name, a guess that stands until the data shows its own
# (a few hundred people cannot show that their names are unique: weighed as this many pairs,
# the pairs of some 450 people). Any guess above the least crowded level's keeps such data
# sceptical; the generated districts' levels run 1e-6 (every name drawn once) to 1e-4
NAMESAKE_GUESS = 1e-5
NAMESAKE_GUESS_PAIRS = 100_000
# between a context and the namesake rate it is qualified with
QUALIFIER = "@"


@dataclass(frozen=True)
class Levels:
    """A context's maps, one per namesake rate it was fitted at (ascending)."""

    rates: tuple[float, ...]
    maps: tuple[Calibration, ...]

    def at(self, rate: float | None) -> Calibration:
        """The map at ``rate``: interpolated between the two levels around it on a log
        scale (a convex mix of two monotone maps is monotone); the last level (the most
        crowded, the most sceptical) where ``rate`` is None."""
        if rate is None or len(self.maps) == 1:
            return self.maps[-1]
        x = math.log10(max(rate, RATE_FLOOR))
        xs = [math.log10(max(v, RATE_FLOOR)) for v in self.rates]
        if x <= xs[0]:
            return self.maps[0]
        if x >= xs[-1]:
            return self.maps[-1]
        i = next(j for j in range(1, len(xs)) if x <= xs[j])
        t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]) if xs[i] > xs[i - 1] else 1.0
        knots, lo, hi = on_common_knots(self.maps[i - 1], self.maps[i])
        return Calibration.from_knots(knots, np.maximum.accumulate((1 - t) * lo + t * hi))


def on_common_knots(a: Calibration, b: Calibration) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both maps' knots together, and what each map states at them (uncapped): two maps
    combined point by point there are combined everywhere (both are linear between them)."""
    knots = np.unique(np.r_[a.raw, b.raw])
    return knots, np.interp(knots, a.raw, a.calibrated), np.interp(knots, b.raw, b.calibrated)


def namesake_rate(names: Any) -> float:
    """The chance that two people carry the same name, from ``names``: one normalised name
    per person whom a valid ID number tells apart. Same-name pairs over all pairs, smoothed
    towards :data:`NAMESAKE_GUESS` as :data:`NAMESAKE_GUESS_PAIRS` pairs would weigh it."""
    counts = pd.Series(names).dropna().value_counts().to_numpy(dtype=float)
    n = float(counts.sum())
    same = float((counts * (counts - 1) / 2).sum())
    return (same + NAMESAKE_GUESS * NAMESAKE_GUESS_PAIRS) / (n * (n - 1) / 2 + NAMESAKE_GUESS_PAIRS)


def shared_names(names: Any) -> frozenset[str]:
    """The names more than one person carries, from ``names``: one normalised name per person
    whom a valid ID number tells apart (as :func:`namesake_rate` counts them). A name match on
    one of these is stated by the map of all pairs (:data:`SHARED`)."""
    counts = pd.Series(names).dropna().value_counts()
    return frozenset(counts.index[counts.to_numpy() > 1].tolist())


def pair_kind(x: Any, y: Any, shared: frozenset[str] = frozenset()) -> str:
    """A pair's kind (:data:`ALIKE`, :data:`DIFFERENT`, :data:`SHARED`) from the two sides'
    normalised names (a missing name is written differently)."""
    if not (isinstance(x, str) and x == y):
        return DIFFERENT
    return SHARED if x in shared else ALIKE


def pair_kinds(a: Any, b: Any, shared: frozenset[str] = frozenset()) -> np.ndarray:
    """:func:`pair_kind` of each pair (``a``, ``b``: the two sides' names, of one length)."""
    kinds = [pair_kind(x, y, shared) for x, y in zip(list(a), list(b), strict=True)]
    return np.array(kinds, dtype=object)


def qualified(context: str, namesake_rate: float | None) -> str:
    """``context`` with the data's namesake rate, as :func:`current` reads it; as it is where
    its map has one level (the rate would change nothing: the roster's) or no rate is known."""
    if namesake_rate is None or not math.isfinite(namesake_rate) or QUALIFIER in context:
        return context
    if len(levels(context).maps) == 1:
        return context
    return f"{context}{QUALIFIER}{namesake_rate:.6g}"


def _levels(body: Any) -> Levels:
    if "levels" not in body:  # one map, fitted at no particular rate
        return Levels((0.0,), (Calibration.from_knots(body["raw"], body["calibrated"]),))
    rows = sorted(body["levels"], key=lambda r: float(r["namesake_rate"]))
    return Levels(
        tuple(float(r["namesake_rate"]) for r in rows),
        tuple(Calibration.from_knots(r["raw"], r["calibrated"]) for r in rows),
    )


def variant_of(context: str) -> str:
    """The key of ``context``'s map of the pairs its map of names alike does not state
    (``panel/variant``: names written differently, or a name the data shares)."""
    return f"{context.partition(QUALIFIER)[0]}/{VARIANT}"


def read(path: Path) -> dict[str, Levels]:
    """Every context's levels from a file :func:`write` wrote (a context's variant map,
    where it has one, under :func:`variant_of`)."""
    body = json.loads(path.read_text(encoding="utf-8"))
    maps = {k: _levels(m) for k, m in body["maps"].items()}
    missing = set(CONTEXTS) - set(maps)
    if missing:
        raise ValueError(f"{path.name}: no map for {sorted(missing)}")
    stray = {k for k in maps if k not in CONTEXTS and k not in {variant_of(c) for c in CONTEXTS}}
    if stray:
        raise ValueError(f"{path.name}: maps of no known context {sorted(stray)}")
    return maps


@lru_cache(maxsize=1)
def _load() -> dict[str, Levels]:
    return read(CALIBRATION_FILE)


def levels(context: str, *, variant: bool = False) -> Levels:
    """Every level of ``context``'s map (``context`` without a qualifier); with ``variant``,
    of its map of the pairs not written alike or of a shared name, the one map where it has
    none."""
    maps = _load()
    if variant and variant_of(context) in maps:
        return maps[variant_of(context)]
    return maps[context.partition(QUALIFIER)[0]]


def has_variant(context: str) -> bool:
    """Whether ``context`` states the pairs its map of names alike does not with a map of
    their own (:func:`pair_kinds`)."""
    return variant_of(context) in _load()


@lru_cache(maxsize=512)
def _current(context: str, variant: bool) -> Calibration:
    _, _, rate = context.partition(QUALIFIER)
    return levels(context, variant=variant).at(float(rate) if rate else None)


def current(context: str = ROSTER, *, variant: bool = False) -> Calibration:
    """The map in use in ``context``, a context name qualified with the data's namesake rate
    (:func:`qualified`) or not, for the pairs of kind :data:`ALIKE` or, with ``variant``, the
    others (``bench/calibration.py`` replaces this function to measure the posterior
    itself)."""
    return _current(context, variant)


def raw_floor(context: str, floor: float) -> float:
    """The least posterior either of ``context``'s maps (names alike; the other pairs) states
    at ``floor``: below it no pair can reach the floor."""
    return min(current(context).raw_floor(floor), current(context, variant=True).raw_floor(floor))


def stated(context: str, posterior: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Each ``posterior`` stated by ``context``'s map of its kind (:func:`pair_kinds`: every
    kind but :data:`ALIKE` by the map of all pairs)."""
    out: np.ndarray = current(context)(posterior)
    variant = kinds != ALIKE
    if bool(np.any(variant)):
        out = np.where(variant, current(context, variant=True)(posterior), out)
    return out
