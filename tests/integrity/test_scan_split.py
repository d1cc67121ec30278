"""The rules split over two processes (run_rules' jobs=2) give what one process gives."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from integrity import scan
from integrity.findings import Finding
from integrity.load.dataset import Dataset, load_dataset
from integrity.policy import load_profile
from integrity.rules import REGISTRY, ScanContext
from integrity.scan import DECISION_RULES, run_rules, select_rules
from integrity.screening.kin import Screening
from tests.conftest import DEMO, record_forks


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return load_dataset(DEMO)


def _run(demo: Dataset, jobs: int) -> tuple[list[dict[str, Any]], list[Any], ScanContext]:
    profile = load_profile("longgang-2023")
    ctx = ScanContext(dataset=demo, profile=profile)
    findings, runs = run_rules(demo, profile, select_rules(None), ctx=ctx, jobs=jobs)
    return [f.to_dict() for f in findings], runs, ctx


def test_split_run_gives_the_same_findings_runs_notes_and_priors(demo: Dataset) -> None:
    one, runs_one, ctx_one = _run(demo, 1)
    two, runs_two, ctx_two = _run(demo, 2)
    assert one == two
    # both halves ran something: the comparison is of a real split
    assert {r.rule for r in runs_two if r.status == "run"} & DECISION_RULES
    assert {r.rule for r in runs_two if r.status == "run"} - DECISION_RULES
    assert [replace(r, seconds=0.0) for r in runs_one] == [
        replace(r, seconds=0.0) for r in runs_two
    ]
    assert ctx_one.notes == ctx_two.notes
    assert ctx_one.screening.priors == ctx_two.screening.priors


def _break(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Make rule ``code`` raise (the forked child inherits the patched registry)."""

    def broken(ctx: ScanContext, settings: Any) -> Iterator[Finding]:
        raise ValueError(f"{code} broken on purpose")
        yield  # pragma: no cover

    monkeypatch.setitem(REGISTRY, code, replace(REGISTRY[code], run=broken))


def test_an_error_in_the_forked_half_reaches_the_caller(
    demo: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break(monkeypatch, "split_bid")
    profile = load_profile("longgang-2023")
    with pytest.raises(ValueError, match="broken on purpose") as caught:
        run_rules(demo, profile, ["avoidance", "split_bid"], jobs=2)
    # the child's traceback comes along as the cause
    assert "child process" in str(caught.value.__cause__)


def test_an_error_in_this_half_stops_the_child(
    demo: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break(monkeypatch, "avoidance")
    with pytest.raises(ValueError, match="broken on purpose"):
        run_rules(demo, load_profile("longgang-2023"), ["avoidance", "split_bid"], jobs=2)
    assert not mp.active_children()  # stopped and reaped, not left running


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the children forked."""
    return record_forks(monkeypatch, scan)


def _patch(monkeypatch: pytest.MonkeyPatch, code: str, before: Any) -> None:
    """Rule ``code`` calls ``before(ctx)`` first (the forked child inherits the patch)."""
    rule = REGISTRY[code]

    def patched(ctx: ScanContext, settings: Any) -> Iterator[Finding]:
        before(ctx)
        yield from rule.run(ctx, settings)

    monkeypatch.setitem(REGISTRY, code, replace(rule, run=patched))


def test_the_rules_without_identities_run_early_in_a_child(
    demo: Dataset, monkeypatch: pytest.MonkeyPatch, forks: list[str]
) -> None:
    """A rule that reads no identity or kinship (``screening=False``) runs in a forked child
    started before the shared stages: its note carries the child's process id."""
    light = "acceptance"
    assert not REGISTRY[light].screening
    _patch(monkeypatch, light, lambda ctx: ctx.note(light, f"pid {os.getpid()}"))
    _, runs, ctx = _run(demo, 2)
    assert forks == ["integrity-rules-early", "integrity-rules"]
    assert ctx.notes[light][-1] != f"pid {os.getpid()}"
    assert any(r.rule == light and r.status == "run" for r in runs)
    assert not mp.active_children()


def test_an_error_in_the_early_child_reaches_the_caller(
    demo: Dataset, monkeypatch: pytest.MonkeyPatch, forks: list[str]
) -> None:
    _break(monkeypatch, "acceptance")
    with pytest.raises(ValueError, match="broken on purpose") as caught:
        run_rules(demo, load_profile("longgang-2023"), ["avoidance", "acceptance"], jobs=2)
    assert forks == ["integrity-rules-early"]
    assert "child process" in str(caught.value.__cause__)
    assert not mp.active_children()


def test_an_error_in_the_shared_stages_stops_the_early_child(
    demo: Dataset, monkeypatch: pytest.MonkeyPatch, forks: list[str]
) -> None:
    """The early child, still at work (its rule sleeps), is stopped and reaped when the
    shared stages fail here."""

    def broken(self: Any) -> dict[str, float]:
        raise ValueError("the shared stages broken on purpose")

    monkeypatch.setattr(Screening, "prepare", broken)
    _patch(monkeypatch, "acceptance", lambda ctx: time.sleep(60))
    began = time.monotonic()
    with pytest.raises(ValueError, match="broken on purpose"):
        run_rules(demo, load_profile("longgang-2023"), ["avoidance", "acceptance"], jobs=2)
    assert forks == ["integrity-rules-early"]
    assert not mp.active_children()
    assert time.monotonic() - began < 30
