"""A context's map of pairs not stated by its map of names alike (names written differently,
or a name the data's numbered people share): read from the maps' file, chosen by the pair's
normalised names and the data's shared names on both scoring paths, said in the map's reason
and in the referral's words, and never pruned by the blocking where it states more than the
map of names alike."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from integrity.documents.words import plain_step
from integrity.identity import calibration
from integrity.identity.blocking import need_bits
from integrity.identity.calibration import (
    CALIBRATION_LABEL,
    DIFFERENT,
    KIN,
    KIND_NOTES,
    PANEL,
    ROSTER,
    SHARED,
    Calibration,
    Levels,
)
from integrity.identity.mentions import name_frequencies, prepare
from integrity.identity.scoring import score
from integrity.screening.org_relations import identity_evidence

PLAIN = Calibration.from_knots([0.0, 1.0], [0.0, 1.0])  # states the posterior
HALF = Calibration.from_knots([0.0, 1.0], [0.0, 0.5])  # states half of it
LIFT = Calibration.from_knots([0.0, 0.1, 1.0], [0.0, 0.5, 1.0])  # states more


def _one(m: Calibration) -> Levels:
    return Levels((0.0,), (m,))


@pytest.fixture
def maps(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Levels]]:
    """The maps in use, as a test sets them (every context the plain map to start with)."""
    held = {c: _one(PLAIN) for c in calibration.CONTEXTS}
    monkeypatch.setattr(calibration, "_load", lambda: held)
    calibration._current.cache_clear()
    yield held
    calibration._current.cache_clear()


def test_a_file_of_variant_maps_reads_back_and_a_stray_map_is_refused(tmp_path: Path) -> None:
    given: dict[str, Calibration | Levels] = {c: _one(PLAIN) for c in calibration.CONTEXTS}
    given[calibration.variant_of(PANEL)] = Levels((1e-6, 1e-4), (LIFT, HALF))
    path = tmp_path / "calibration.json"
    calibration.write(given, fitted_on="测试", path=path)
    back = calibration.read(path)
    assert back["panel/variant"] == given["panel/variant"]
    assert calibration.variant_of(f"{PANEL}@1e-06") == "panel/variant"
    given["panel/typo"] = _one(PLAIN)
    calibration.write(given, fitted_on="测试", path=path)
    with pytest.raises(ValueError, match=r"panel/typo"):
        calibration.read(path)


def test_a_context_without_a_variant_map_states_both_kinds_alike(
    maps: dict[str, Levels],
) -> None:
    maps[PANEL] = _one(LIFT)
    assert not calibration.has_variant(PANEL)
    assert calibration.current(PANEL, variant=True) == calibration.current(PANEL) == LIFT
    maps[calibration.variant_of(PANEL)] = _one(HALF)
    calibration._current.cache_clear()
    assert calibration.has_variant(PANEL) and not calibration.has_variant(KIN)
    assert calibration.current(PANEL, variant=True) == HALF
    assert calibration.current(KIN, variant=True) == PLAIN
    kinds = np.array([calibration.ALIKE, DIFFERENT, SHARED], dtype=object)
    got = calibration.stated(PANEL, np.array([0.05, 0.05, 0.05]), kinds)
    assert got.tolist() == pytest.approx([0.25, 0.025, 0.025])


def test_a_pairs_kind_reads_the_normalised_names_and_the_shared_ones() -> None:
    a = pd.Series(["王丽", "王丽", None, "王丽", "王芳"])
    b = pd.Series(["王丽", "王莉", None, np.nan, "王芳"])
    shared = frozenset({"王芳", "王莉"})
    kinds = calibration.pair_kinds(a, b, shared).tolist()
    assert kinds == ["alike", DIFFERENT, DIFFERENT, DIFFERENT, SHARED]
    assert [calibration.pair_kind(x, y, shared) for x, y in zip(a, b, strict=True)] == kinds
    assert calibration.pair_kinds(a, b).tolist()[-1] == "alike"  # nothing shared


def test_shared_names_are_those_two_people_carry() -> None:
    """One name per numbered person: a name two of them carry is shared, one is not."""
    names = pd.Series(["王芳", "李娜", "王芳", None, "陈静", "陈静", "陈静"])
    assert calibration.shared_names(names) == frozenset({"王芳", "陈静"})
    assert calibration.shared_names(pd.Series([], dtype=object)) == frozenset()


def _pairs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two pairs: names alike (陈桂秀/陈桂秀) and a homophone (陈桂秀/陈桂绣), nothing else."""
    left = prepare(pd.DataFrame({"name": ["陈桂秀", "陈桂秀"], "id_valid": [False, False]}))
    right = prepare(pd.DataFrame({"name": ["陈桂秀", "陈桂绣"], "id_valid": [False, False]}))
    return left, right, pd.DataFrame({"l": [0, 1], "r": [0, 1]})


@pytest.mark.parametrize("small", [0, 32])
def test_each_pair_is_stated_by_the_map_of_its_kind(maps: dict[str, Levels], small: int) -> None:
    """Both scoring paths: the pair written alike keeps what the map of names alike states,
    the homophone is stated by the variant map (here half of it), and its reason says so."""
    left, right, pairs = _pairs()
    freq = name_frequencies(left, right)

    def scored() -> pd.DataFrame:
        calibration._current.cache_clear()
        return score(
            left, right, pairs, prior=0.5, frequencies=freq, small=small, context=PANEL,
            reasons_from=0.0,
        )  # fmt: skip

    before = scored()
    maps[calibration.variant_of(PANEL)] = _one(HALF)
    after = scored()
    alike, variant = after["confidence"].tolist()
    assert alike == before["confidence"].iloc[0]
    posterior = 1 / (1 + math.exp2(-float(before["log_odds"].iloc[1])))
    assert 0.02 < posterior < 0.98  # the map has room to move it
    assert variant == pytest.approx(posterior / 2, abs=2e-3)
    said = [label for label, _ in after["reasons"].iloc[1]]
    note = KIND_NOTES[DIFFERENT]
    assert any(x.startswith(CALIBRATION_LABEL + note) for x in said)
    assert not any(note in x for x, _ in after["reasons"].iloc[0])


@pytest.mark.parametrize("small", [0, 32])
def test_a_name_the_data_shares_is_stated_by_the_map_of_all_pairs(
    maps: dict[str, Levels], small: int
) -> None:
    """Both scoring paths: two records written 陈桂秀 are stated by the map of names alike,
    unless the data's numbered people share the name; then by the map of all pairs, with a
    reason saying so (and nothing else of the pair changes)."""
    left, right, pairs = _pairs()
    freq = name_frequencies(left, right)
    maps[PANEL] = _one(LIFT)
    maps[calibration.variant_of(PANEL)] = _one(HALF)

    def scored(shared: frozenset[str]) -> pd.DataFrame:
        calibration._current.cache_clear()
        return score(
            left, right, pairs.iloc[:1], prior=0.5, frequencies=freq, small=small,
            context=PANEL, reasons_from=0.0, shared=shared,
        )  # fmt: skip

    alone, shared = scored(frozenset({"李娜"})), scored(frozenset({"陈桂秀"}))
    posterior = 1 / (1 + math.exp2(-float(alone["log_odds"].iloc[0])))
    assert shared["log_odds"].iloc[0] == alone["log_odds"].iloc[0]
    assert alone["confidence"].iloc[0] == pytest.approx(LIFT.one(posterior), abs=1e-4)
    assert shared["confidence"].iloc[0] == pytest.approx(posterior / 2, abs=1e-4)
    said = [label for label, _ in shared["reasons"].iloc[0]]
    assert any(x.startswith(CALIBRATION_LABEL + KIND_NOTES[SHARED]) for x in said)
    assert not any(KIND_NOTES[SHARED] in x for x, _ in alone["reasons"].iloc[0])


def test_the_blocking_prunes_at_the_map_that_states_more(maps: dict[str, Levels]) -> None:
    """Whichever kind's map lifts a posterior to the floor first sets the blocking's need:
    a pair the variant map would report is never pruned for the map of names alike."""
    prior_bits = math.log2(1e-4 / (1 - 1e-4))
    lifted = math.log2(0.1 / 0.9) - prior_bits  # LIFT states 0.5 at 0.1
    plain = math.log2(1.0) - prior_bits  # PLAIN states 0.5 at 0.5
    assert need_bits(1e-4, 0.5, PANEL) == pytest.approx(plain)
    maps[calibration.variant_of(PANEL)] = _one(LIFT)
    calibration._current.cache_clear()
    assert need_bits(1e-4, 0.5, PANEL) == pytest.approx(lifted)
    maps[PANEL], maps[calibration.variant_of(PANEL)] = _one(LIFT), _one(HALF)
    calibration._current.cache_clear()
    assert need_bits(1e-4, 0.5, PANEL) == pytest.approx(lifted)
    assert need_bits(1e-4, 0.5, ROSTER) == pytest.approx(plain)


@pytest.mark.parametrize("context", [PANEL, KIN])
def test_the_committed_variant_maps_never_state_more_than_names_alike(context: str) -> None:
    """At any namesake rate and posterior, a pair whose names are written differently is
    stated no higher than one written alike, and neither kind states more where names crowd
    more (the committed maps, read as the scan reads them)."""
    assert calibration.has_variant(context)
    posteriors = np.linspace(0.0, 1.0, 401)
    rates = np.logspace(-8, -2, 40)
    before: dict[bool, np.ndarray] = {}
    for rate in rates:
        q = calibration.qualified(context, float(rate))
        alike = calibration.current(q)(posteriors)
        variant = calibration.current(q, variant=True)(posteriors)
        assert np.all(variant <= alike + 1e-9)
        for kind, now in ((False, alike), (True, variant)):
            if kind in before:
                assert np.all(now <= before[kind] + 1e-9)
            before[kind] = now


@pytest.mark.parametrize(
    ("note", "said"),
    [
        ("", []),
        (KIND_NOTES[DIFFERENT], []),  # the reasons say the names differ already
        (KIND_NOTES[SHARED], ["本数据中有多人同名"]),
    ],
)
def test_the_reader_is_told_when_the_data_shares_the_name(note: str, said: list[str]) -> None:
    """The plain evidence says that the data's people share the name (why the match weighs
    little), then the data's namesake rate; never the calibration's arithmetic."""
    label = f"{CALIBRATION_LABEL}{note}，本数据中两人同名的机会约百万分之1.3"
    reasons = [("先验：基础比例约1e-4", -13.0), ("姓名相同", 12.0), (label, -1.5)]
    step = identity_evidence("王芳", "k1", "王芳", "k2", 0.3, reasons)
    words = plain_step(step)
    assert "校准" not in words and "写法不同" not in words
    assert words.count("本数据中有多人同名") == len(said)
    assert "两人同名的机会约百万分之1.3" in words


def test_pair_kinds_refuse_sides_of_two_lengths_and_keep_an_empty_batch_comparable() -> None:
    """A pair's two sides come from one frame of pairs: sides of two lengths are a caller's
    error, never pairs silently dropped; no pairs give no kinds, which the maps still read."""
    with pytest.raises(ValueError):
        calibration.pair_kinds(["王芳"], ["王芳", "李娜"])
    none = calibration.pair_kinds([], [])
    assert none.dtype == object and len(none) == 0
    assert calibration.stated(PANEL, np.array([]), none).tolist() == []


def test_the_maps_part_is_said_in_bits_to_two_places() -> None:
    """0.3 stated 0.7: log2(7/3) - log2(3/7) = 2.4449… bits, said 2.44."""
    label, bits = calibration.reason(0.3, 0.7, PANEL) or ("", 0.0)
    assert label == CALIBRATION_LABEL and bits == 2.44
