"""Every rule on its hand-written case: which groups it flags and which it must not (from
expected.json), and the findings in full against a golden file (expected-<policy>.json,
written by `make golden` only, after reading the diff).

A case names one policy (``policy``, ``flagged``, ``not_flagged``) or several
(``by_policy``: policy -> its own ``flagged`` / ``not_flagged``). Programme rules key their
findings by scope (``keyed_by: "scope"``: ``provision@k=v;k=v``); ``exact: true`` asserts the
findings are exactly those flagged, no more."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from integrity.findings import Finding
from integrity.load.dataset import load_dataset
from integrity.policy import load_profile
from integrity.scan import run_rules
from tests.conftest import FIXTURES

CASES = sorted(
    p for p in (FIXTURES / "cases").iterdir() if p.is_dir() and (p / "expected.json").exists()
)


def expected(case: Path) -> dict[str, Any]:
    return json.loads((case / "expected.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def policies(case: Path) -> dict[str, dict[str, Any]]:
    """Each policy the case is run under, with what it must flag and not flag under it."""
    spec = expected(case)
    if "by_policy" in spec:
        return {p: {**spec, **sub} for p, sub in spec["by_policy"].items()}
    return {str(spec["policy"]): spec}


RUNS = [(case, policy) for case in CASES for policy in policies(case)]


def run(case: Path, policy: str) -> list[Finding]:
    findings, runs = run_rules(
        load_dataset(case), load_profile(policy), [str(expected(case)["rule"])]
    )
    assert runs[0].status == "run", runs[0].reason
    return findings


def key(finding: Finding, keyed_by: str) -> str:
    if keyed_by == "staff_id|uscc":
        return f"{finding.staff_ids[0]}|{finding.suppliers[0]}"
    if keyed_by == "scope":
        scope = finding.details["scope"]
        return f"{finding.details['provision']}@" + ";".join(
            f"{k}={v}" for k, v in sorted(scope.items())
        )
    return ",".join(sorted(finding.project_ids))


def normal(keys: object, keyed_by: str) -> set[str]:
    if keyed_by == "scope":
        return set(keys)  # type: ignore[call-overload]
    return {",".join(sorted(k.split(","))) for k in keys}  # type: ignore[attr-defined]


def run_id(param: tuple[Path, str]) -> str:
    return f"{param[0].name}-{param[1]}"


@pytest.mark.parametrize("param", RUNS, ids=run_id)
def test_flags_what_it_should_and_nothing_it_should_not(param: tuple[Path, str]) -> None:
    case, policy = param
    spec = policies(case)[policy]
    keyed_by = str(spec.get("keyed_by", "project_ids"))
    asserted = {key(f, keyed_by) for f in run(case, policy) if not f.is_lead}
    flagged = normal(spec["flagged"], keyed_by)
    not_flagged = normal(spec["not_flagged"], keyed_by)
    assert flagged <= asserted, f"missed: {flagged - asserted}"
    assert not (not_flagged & asserted), f"flagged a decoy: {not_flagged & asserted}"
    if spec.get("exact"):
        assert asserted == flagged, f"not in expected.json: {asserted - flagged}"


@pytest.mark.parametrize("param", RUNS, ids=run_id)
def test_golden(param: tuple[Path, str]) -> None:
    """The findings in full against the golden file, which only `make golden` writes
    (fixtures/cases/golden.py): a test never writes what it compares against."""
    case, policy = param
    got = [f.to_dict() for f in run(case, policy)]
    path = case / f"expected-{policy}.json"
    assert path.exists(), f"no golden file {path.name}: run `make golden` and read the diff"
    assert json.loads(json.dumps(got, ensure_ascii=False)) == json.loads(
        path.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("param", RUNS, ids=run_id)
def test_every_finding_cites_and_shows_its_rows(param: tuple[Path, str]) -> None:
    for f in run(*param):
        assert f.citation and f.explanation.endswith(("。", "）"))
        assert any(step.kind == "policy" for step in f.evidence)
        rows = [s for s in f.evidence if s.kind != "policy" and s.source is not None]
        assert rows and all(s.source.file for s in rows)  # type: ignore[union-attr]
        assert 0.0 <= f.confidence <= 1.0
