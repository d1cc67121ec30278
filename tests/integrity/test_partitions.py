"""The findings partitioned by street (``--by-street``): every finding once, under its street's
folder, as findings.json holds it (JSON Lines) or as findings.csv's flat row (Parquet); an
earlier run's partitions never left beside newer findings."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from integrity.cli import app
from integrity.documents import partitions
from integrity.documents.partitions import FOLDER, NO_STREET, partition
from tests.conftest import DEMO

runner = CliRunner(env={"COLUMNS": "200"})


def _scan(out: Path, *args: str, dataset: Path = DEMO) -> Any:
    return runner.invoke(app, ["scan", str(dataset), "--out", str(out), "--quiet", *args])


def _findings(out: Path) -> dict[str, dict[str, Any]]:
    found = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return {f["finding_id"]: f for f in found}


def _street_of(folder: Path) -> str:
    assert folder.name.startswith("street=")
    return folder.name.removeprefix("street=")


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("jsonl") / "out"
    result = _scan(out, "--by-street", "jsonl")
    assert result.exit_code == 0, result.output
    return out


def test_every_finding_once_under_its_streets_folder_as_findings_json_holds_it(
    jsonl: Path,
) -> None:
    want = _findings(jsonl)
    seen: dict[str, dict[str, Any]] = {}
    folders = sorted((jsonl / FOLDER).iterdir())
    assert len(folders) > 1  # the demo has several streets
    for folder in folders:
        for line in (folder / "findings.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert "street" not in row  # the folder says it, as Spark's partitionBy writes
            assert row["finding_id"] not in seen
            seen[row["finding_id"]] = {**row, "street": _street_of(folder)}
    assert seen.keys() == want.keys()
    for fid, f in want.items():
        assert seen[fid] == {**f, "street": f["street"] or NO_STREET}


def test_run_json_records_the_partitions(jsonl: Path) -> None:
    run = json.loads((jsonl / "run.json").read_text(encoding="utf-8"))
    assert run["by_street"] == {
        "folder": FOLDER,
        "format": "jsonl",
        "streets": len(list((jsonl / FOLDER).iterdir())),
        "findings": len(_findings(jsonl)),
    }


def test_street_names_are_escaped_as_spark_escapes_them() -> None:
    assert partition("南湾街道") == "street=南湾街道"
    assert partition("A/B=C%") == "street=A%2FB%3DC%25"
    # Spark's list exactly: "{" but not "}", control characters; NUL too (no path holds it)
    assert partition("x{y}\x01\x00") == "street=x%7By}%01%00"
    assert partition(None) == partition("") == f"street={NO_STREET}"


def test_parquet_holds_the_flat_rows_by_street(tmp_path: Path) -> None:
    if partitions.importlib.util.find_spec("pyarrow") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must provide pyarrow (the spark extra)")
        pytest.skip("PARQUET IS NOT TESTED HERE: pyarrow missing (pip install -e '.[spark]')")
    import pandas as pd  # noqa: PLC0415

    out = tmp_path / "out"
    result = _scan(out, "--by-street", "parquet")
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / FOLDER)  # pyarrow reads the street from the folders
    want = _findings(out)
    assert sorted(table["finding_id"]) == sorted(want)
    for row in table.to_dict("records"):
        f = want[row["finding_id"]]
        assert row["street"] == (f["street"] or NO_STREET)
        assert row["confidence"] == f["confidence"] and row["rule"] == f["rule"]
        assert row["project_ids"] == "; ".join(f["project_ids"])


def test_a_later_run_replaces_or_removes_the_partitions_a_failed_one_keeps_them(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    assert _scan(out, "--by-street", "jsonl").exit_code == 0
    before = sorted(p.name for p in (out / FOLDER).iterdir())
    # a failed run (an unknown rule) writes nothing: the partitions stay
    assert _scan(out, "--by-street", "jsonl", "--rules", "nonsense").exit_code == 2
    assert sorted(p.name for p in (out / FOLDER).iterdir()) == before
    # a run of one rule: only its findings' streets
    assert _scan(out, "--by-street", "jsonl", "--rules", "avoidance").exit_code == 0
    streets = {f["street"] or NO_STREET for f in _findings(out).values()}
    assert {_street_of(p) for p in (out / FOLDER).iterdir()} == streets
    # a run without --by-street: earlier partitions beside its findings would mislead
    assert _scan(out, "--rules", "avoidance").exit_code == 0
    assert not (out / FOLDER).exists()


def test_unknown_format_is_a_usage_error_and_parquet_without_pyarrow_an_engine_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _scan(tmp_path / "a", "--by-street", "csv")
    assert result.exit_code == 2 and "unknown --by-street format" in result.output
    monkeypatch.setattr(partitions.importlib.util, "find_spec", lambda name: None)
    result = _scan(tmp_path / "b", "--by-street", "parquet")
    assert result.exit_code == 3 and "pip install 'integrity[spark]'" in result.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
