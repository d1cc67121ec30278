"""A person-role registry held on Spark (``--registry``) judges as the default engine does with
the same rows in the dataset: the same findings, id for id, confidence for confidence,
evidence row for evidence row — on the demo district (every rule), on roster-only screenings
of generated districts (where every organisation is found by Spark's blocking), and whether
the registry is UTF-8, GB18030 or Parquet. Bad rows are errors naming file, row and column.

Spark runs in local mode; outside CI a machine without it skips, naming what is missing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fixtures.generate_demo import generate
from integrity.errors import DatasetError, PolicyError
from integrity.scan import ROSTER_RULES, run_scan
from tests.conftest import DEMO

PEOPLE = "企业关联人员.csv"
ROSTER_ONLY = ("公职人员.csv", "亲属申报.csv", "family_links.csv")


def _split(src: Path, root: Path, keep: tuple[str, ...] | None = None) -> tuple[Path, Path]:
    """The dataset ``src`` without its person-role table (only ``keep`` files, if given), and
    a registry folder holding that table."""
    data, registry = root / "data", root / "registry"
    data.mkdir(parents=True)
    registry.mkdir()
    for f in src.iterdir():
        if f.name == PEOPLE:
            shutil.copy(f, registry / f.name)
        elif keep is None or f.name in keep:
            shutil.copy(f, data / f.name)
    return data, registry


def _judged(result: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (
            f.finding_id,
            f.rule,
            f.confidence,
            f.severity,
            f.explanation,
            tuple(str(e.to_dict()) for e in f.evidence),
        )
        for f in result.findings
    )


def _same(full: Path, data: Path, registry: Path | str, **kw: Any) -> int:
    want = run_scan(full, policy="longgang-2023", **kw)
    got = run_scan(data, policy="longgang-2023", engine="spark", registry=str(registry), **kw)
    assert _judged(got) == _judged(want)
    return len(want.findings)


def test_demo_scan_with_the_registry_on_spark_gives_the_same_findings(
    spark: Any, tmp_path: Path
) -> None:
    data, registry = _split(DEMO, tmp_path)
    result = run_scan(data, policy="longgang-2023", engine="spark", registry=str(registry))
    people = result.dataset.table("supplier_people")
    (source,) = [s for s in result.dataset.sources if s.table == "supplier_people"]
    assert source.file.endswith(PEOPLE) and source.rows == len(pd.read_csv(registry / PEOPLE))
    assert source.columns["姓名"] == "name" and source.columns["职务"] == "role"
    # recorded as every input is: the file's SHA-256 (read through Spark's file system)
    assert source.sha256 == hashlib.sha256((registry / PEOPLE).read_bytes()).hexdigest()
    # the dataset holds only the organisations its own tables name
    assert 0 < len(people) <= len(pd.read_csv(registry / PEOPLE))
    want = run_scan(DEMO, policy="longgang-2023")
    assert _judged(result) == _judged(want)
    assert {r.rule for r in want.findings} >= {"avoidance", "related_supplier"}


@pytest.mark.parametrize("seed", [11, 12])
def test_roster_screening_finds_relatives_in_registry_only_organisations(
    spark: Any, tmp_path: Path, seed: int
) -> None:
    """No supplier table, no ledger: every organisation is the registry's, and each notice
    comes from a holder Spark's blocking met."""
    made = tmp_path / "made"
    generate(made, seed=seed, namesakes=True)
    full = tmp_path / "full"
    data, registry = _split(made / "longgang", tmp_path / "split", keep=ROSTER_ONLY)
    full.mkdir()
    for name in (*ROSTER_ONLY, PEOPLE):
        shutil.copy((data if name != PEOPLE else registry) / name, full / name)
    assert _same(full, data, registry, rules=list(ROSTER_RULES)) > 0


@pytest.mark.parametrize("form", ["gb18030", "parquet"])
def test_the_registry_in_gb18030_or_parquet(spark: Any, tmp_path: Path, form: str) -> None:
    full = tmp_path / "full"
    shutil.copytree(DEMO, full)
    frame = pd.read_csv(full / PEOPLE, dtype=str, keep_default_na=False)
    (full / PEOPLE).unlink()
    if form == "parquet":
        frame.to_parquet(full / "企业关联人员.parquet", index=False)
        name = "企业关联人员.parquet"
    else:
        frame.to_csv(full / PEOPLE, index=False, encoding="gb18030")
        name = PEOPLE
    data, registry = tmp_path / "data", tmp_path / "registry"
    shutil.copytree(full, data, ignore=shutil.ignore_patterns(name))
    registry.mkdir()
    shutil.copy(full / name, registry / name)
    # the Parquet registry named by a URL, as an object store's would be (file://, through
    # the same Hadoop file systems as s3a:// or hdfs://)
    assert _same(full, data, registry if form == "gb18030" else registry.as_uri()) > 0


def test_a_bad_registry_row_names_file_row_and_column(spark: Any, tmp_path: Path) -> None:
    data, registry = _split(DEMO, tmp_path)
    frame = pd.read_csv(registry / PEOPLE, dtype=str, keep_default_na=False)
    frame.loc[3, "姓名"] = ""  # the file's row 5 (the header is row 1)
    # and a warning on row 8: an ID number whose check digit is wrong
    number = next(v for v in frame["身份证号"].iloc[6:] if len(v) == 18)
    at = frame.index[frame["身份证号"] == number][0]
    frame.loc[at, "身份证号"] = number[:17] + ("1" if number[17] != "1" else "2")
    frame.to_csv(registry / PEOPLE, index=False)
    with pytest.raises(DatasetError) as err:
        run_scan(data, policy="longgang-2023", engine="spark", registry=str(registry))
    issues = [i for i in err.value.issues if i.code == "required_empty"]
    assert [(i.file, i.row, i.column) for i in issues] == [(PEOPLE, 5, "姓名")]
    lenient = run_scan(
        data, policy="longgang-2023", engine="spark", registry=str(registry), lenient=True
    )
    assert lenient.dataset.skipped_rows == {"supplier_people": 1}
    counted = [i for i in lenient.dataset.issues if "登记库" in i.message_zh]
    assert [(i.code, i.file, i.column) for i in counted] == [
        ("id_number_checksum", PEOPLE, "身份证号")
    ]
    assert f"首见于第{at + 2}行" in counted[0].message_zh


def test_the_registry_needs_spark_and_is_the_one_person_role_table(
    spark: Any, tmp_path: Path
) -> None:
    data, registry = _split(DEMO, tmp_path)
    with pytest.raises(PolicyError, match="--engine spark"):
        run_scan(data, policy="longgang-2023", registry=str(registry))
    with pytest.raises(DatasetError) as err:
        run_scan(DEMO, policy="longgang-2023", engine="spark", registry=str(registry))
    assert [i.code for i in err.value.issues] == ["registry_twice"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError) as err:
        run_scan(data, policy="longgang-2023", engine="spark", registry=str(empty))
    assert [i.code for i in err.value.issues] == ["registry_empty"]
