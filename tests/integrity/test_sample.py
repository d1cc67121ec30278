"""The inspection sample (第二十五条): the rate, every community, risk first, reproducible."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from integrity.cli import app
from integrity.findings import Finding
from integrity.load.dataset import load_dataset
from integrity.sample import draw
from tests.conftest import DEMO

runner = CliRunner(env={"COLUMNS": "200"})


def finding(pid: str, severity: str = "high") -> Finding:
    return Finding(
        finding_id=f"x-{pid}",
        rule="over_cap",
        severity=severity,  # type: ignore[arg-type]
        confidence=1.0,
        project_ids=[pid],
        staff_ids=[],
        suppliers=[],
        citation="c",
        explanation="e",
        evidence=[],
    )


def test_rate_communities_and_seed() -> None:
    projects = load_dataset(DEMO).table("projects")
    a = draw(projects, [], rate=0.2, seed=1)
    b = draw(projects, [], rate=0.2, seed=1)
    c = draw(projects, [], rate=0.2, seed=2)
    assert len(a.rows) >= 0.2 * len(projects)
    assert {r["community"] for r in a.rows} == set(projects["community"].dropna())
    assert a.rows == b.rows and a.rows != c.rows


def test_risky_projects_are_drawn_far_more_often() -> None:
    projects = load_dataset(DEMO).table("projects")
    risky = [str(p) for p in projects["project_id"][:20]]
    hits = 0
    for seed in range(20):
        drawn = {
            r["project_id"]
            for r in draw(projects, [finding(p) for p in risky], rate=0.2, seed=seed).rows
        }
        hits += len(drawn & set(risky))
    # at random a fifth of them would be drawn: 4 a time; weighted by 5 they are most
    assert hits / 20 > 8


def test_sample_command_writes_both_files(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    result = runner.invoke(app, ["sample", str(DEMO), "--seed", "7", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "sample.json").read_text(encoding="utf-8"))
    assert data["drawn"] >= 0.2 * data["population"] and data["seed"] == 7
    assert data["projects"] and all(r["reason"] for r in data["projects"])
    assert (out / "sample.xlsx").exists()
