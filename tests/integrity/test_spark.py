"""The Spark engine judges as the default engine does: its kin expansion gives the very rows
graph.expand gives (ties between equal paths broken alike), and a scan with
``--engine spark`` writes the same findings, id for id and confidence for confidence.

Spark runs in local mode (PySpark from the ``spark`` extra, a Java runtime); outside CI a
machine without them skips these tests, naming what is missing; under CI=true it fails."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from graph.expand import SAME, expand
from integrity.load.dataset import load_dataset
from integrity.scan import run_scan
from integrity.screening.kin import MAX_BRIDGES, MAX_HOPS, Screening
from tests.conftest import DEMO, REPO

CASES = REPO / "fixtures" / "cases"


def _officials(scr: Screening) -> pd.DataFrame:
    staff = scr.keyed["staff"]
    officials = (
        pd.DataFrame({"key": staff["person_key"], "sex": staff["sex"]})
        .drop_duplicates("key")
        .reset_index(drop=True)
    )
    officials["sex"] = officials["sex"].where(officials["sex"].isin(["男", "女"]), None)
    return officials


def _both(spark: Any, officials: pd.DataFrame, links: pd.DataFrame, **kw: int) -> None:
    from integrity.spark.expand import expand as spark_expand  # noqa: PLC0415

    want = expand(officials, links, **kw).reset_index(drop=True)
    got = spark_expand(spark, officials, links, **kw)
    assert len(want) > 0
    assert_frame_equal(got, want, check_dtype=True, check_exact=True)


def test_the_demo_districts_kinship_is_the_same(spark: Any) -> None:
    scr = Screening(load_dataset(DEMO))
    _both(spark, _officials(scr), scr.all_links, max_hops=MAX_HOPS, max_same=MAX_BRIDGES)


@pytest.mark.parametrize("case", ["avoidance", "undeclared_relation", "related_supplier"])
def test_the_cases_kinship_is_the_same(spark: Any, case: str) -> None:
    scr = Screening(load_dataset(CASES / case))
    _both(spark, _officials(scr), scr.all_links, max_hops=MAX_HOPS, max_same=MAX_BRIDGES)


ONE_STEP = ["h", "w", "f", "m", "s", "d", "ob", "lb", "os", "ls", "w,ob", "m,lb", "f,xb,s&l", "sp"]


def _tangle(seed: int, people: int = 40, links: int = 120) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random family tangle: cycles, parallel links (two records of one relation, so that
    paths tie), identity links of several confidences, people of unknown sex."""
    rng = random.Random(seed)
    keys = [f"p{i:02d}" for i in range(people)]
    sex = {k: rng.choice(["男", "女", None]) for k in keys}
    rows = []
    for i in range(links):
        a, b = rng.sample(keys, 2)
        same = rng.random() < 0.12
        code = SAME if same else rng.choice(ONE_STEP)
        conf = rng.choice([0.6, 0.75, 0.9]) if same else 1.0
        rows.append((f"L{i:03d}", a, b, code, sex[a], sex[b], conf))
        if not same and rng.random() < 0.2:  # the same relation recorded twice
            rows.append((f"M{i:03d}", a, b, code, sex[a], sex[b], conf))
    frame = pd.DataFrame(
        rows, columns=["link_id", "src", "dst", "code", "src_sex", "dst_sex", "conf"]
    )
    officials = pd.DataFrame({"key": keys[:12], "sex": [sex[k] for k in keys[:12]]})
    return officials, frame


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_tangles_expand_alike(spark: Any, seed: int) -> None:
    officials, links = _tangle(seed)
    _both(spark, officials, links, max_hops=3, max_same=2)


def test_a_scan_on_spark_writes_the_same_findings(spark: Any, tmp_path: Path) -> None:
    default = run_scan(DEMO, policy="longgang-2023")
    on_spark = run_scan(DEMO, policy="longgang-2023", engine="spark")
    assert on_spark.engine == "spark"
    assert len(default.findings) > 50
    assert [f.to_dict() for f in on_spark.findings] == [f.to_dict() for f in default.findings]


def test_an_unknown_engine_is_refused() -> None:
    from integrity.errors import PolicyError  # noqa: PLC0415

    with pytest.raises(PolicyError, match="unknown engine"):
        run_scan(DEMO, policy="longgang-2023", engine="duckdb")


def test_spark_reads_the_partitions_by_street_as_one_table(spark: Any, tmp_path: Path) -> None:
    """What a platform does with ``--by-street``: Spark reads the folder back, the street
    from the folder names (Chinese names unescaped), every finding once."""
    import json  # noqa: PLC0415

    from typer.testing import CliRunner  # noqa: PLC0415

    from integrity.cli import app  # noqa: PLC0415
    from integrity.documents.partitions import FOLDER, NO_STREET  # noqa: PLC0415

    for fmt in ("jsonl", "parquet"):
        out = tmp_path / fmt
        result = CliRunner().invoke(
            app, ["scan", str(DEMO), "--out", str(out), "--quiet", "--by-street", fmt]
        )
        assert result.exit_code == 0, result.output
        want = {
            f["finding_id"]: (f["street"] or NO_STREET, f["confidence"])
            for f in json.loads((out / "findings.json").read_text(encoding="utf-8"))
        }
        reader = spark.read.json if fmt == "jsonl" else spark.read.parquet
        rows = reader(str(out / FOLDER)).select("finding_id", "street", "confidence").collect()
        got = {r["finding_id"]: (r["street"], r["confidence"]) for r in rows}
        assert len(rows) == len(want) and got == want
