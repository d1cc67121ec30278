"""Every rule on its hand-written case: which groups it flags and which it must not (from
expected.json), and the findings in full against a golden file (expected-<policy>.json,
regenerated with UPDATE_GOLDEN=1 after reading the diff)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from integrity.findings import Finding
from integrity.load import load_dataset
from integrity.policy import load_profile
from integrity.scan import run_rules
from tests.conftest import FIXTURES

CASES = sorted(
    p for p in (FIXTURES / "cases").iterdir() if p.is_dir() and (p / "expected.json").exists()
)


def expected(case: Path) -> dict[str, object]:
    return json.loads((case / "expected.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def run(case: Path) -> list[Finding]:
    spec = expected(case)
    findings, runs = run_rules(
        load_dataset(case), load_profile(str(spec["policy"])), [str(spec["rule"])]
    )
    assert runs[0].status == "run", runs[0].reason
    return findings


def key(finding: Finding, keyed_by: str) -> str:
    if keyed_by == "staff_id|uscc":
        return f"{finding.staff_ids[0]}|{finding.suppliers[0]}"
    return ",".join(sorted(finding.project_ids))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_flags_what_it_should_and_nothing_it_should_not(case: Path) -> None:
    spec = expected(case)
    keyed_by = str(spec.get("keyed_by", "project_ids"))
    asserted = {key(f, keyed_by) for f in run(case) if not f.is_lead}
    flagged = {",".join(sorted(k.split(","))) for k in spec["flagged"]}  # type: ignore[attr-defined]
    not_flagged = {",".join(sorted(k.split(","))) for k in spec["not_flagged"]}  # type: ignore[attr-defined]
    assert flagged <= asserted, f"missed: {flagged - asserted}"
    assert not (not_flagged & asserted), f"flagged a decoy: {not_flagged & asserted}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden(case: Path) -> None:
    spec = expected(case)
    got = [f.to_dict() for f in run(case)]
    path = case / f"expected-{spec['policy']}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert json.loads(json.dumps(got, ensure_ascii=False)) == json.loads(
        path.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_every_finding_cites_and_shows_its_rows(case: Path) -> None:
    for f in run(case):
        assert f.citation and f.explanation.endswith(("。", "）"))
        assert any(step.kind == "policy" for step in f.evidence)
        rows = [s for s in f.evidence if s.kind != "policy" and s.source is not None]
        assert rows and all(s.source.file for s in rows)  # type: ignore[union-attr]
        assert 0.0 <= f.confidence <= 1.0
