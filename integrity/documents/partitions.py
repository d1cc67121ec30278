"""The findings partitioned by street, for a data platform (`integrity scan --by-street`).

One folder per street in Hive's layout, ``findings_by_street/street=南湾街道/``, which Spark
(``spark.read.json`` / ``.parquet`` of the folder), DuckDB (``hive_partitioning``) and pandas
(``read_parquet``) read as one table with ``street`` as a column. The street is the folder,
not a field of the rows (as Spark's own ``partitionBy`` writes it); a finding without one is
under ``street=未注明街道``.

- ``jsonl``: a finding per line, the object findings.json holds (evidence and details nested);
- ``parquet``: the flat row findings.csv holds (evidence as text; confidence a number), one
  file per street, through pyarrow (the ``spark`` extra).
"""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from integrity.errors import EngineError, PolicyError
from integrity.findings import Finding

FOLDER = "findings_by_street"
FORMATS = ("jsonl", "parquet")
NO_STREET = "未注明街道"
# what Spark's partition paths escape (ExternalCatalogUtils.charToEscape: \x01-\x1f and these;
# NUL too, which no path can hold), as %XX of the code point; other characters (Chinese among
# them) stay as they are
_ESCAPED = frozenset("\"#%'*/:=?\\\x7f{[]^") | {chr(c) for c in range(0x20)}


def check_format(fmt: str) -> None:
    """Refuse, before any work, an unknown format (PolicyError: a usage error) or one this
    installation cannot write (EngineError)."""
    if fmt not in FORMATS:
        raise PolicyError(
            f"未知的分街道输出格式 / unknown --by-street format: {fmt} "
            f"（可用 / available: {', '.join(FORMATS)}）"
        )
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise EngineError(
            "写出 Parquet 需要 pyarrow：pip install 'integrity[spark]' / "
            "writing Parquet needs pyarrow: pip install 'integrity[spark]'"
        )


def partition(street: str | None) -> str:
    """The folder of a street's findings: ``street=<name>``, escaped as Spark escapes it."""
    name = street or NO_STREET
    escaped = "".join(f"%{ord(c):02X}" if c in _ESCAPED else c for c in name)
    return f"street={escaped}"


def write_by_street(
    findings: list[Finding], flat: list[dict[str, Any]], folder: Path, fmt: str
) -> dict[str, Any]:
    """Write ``findings`` under ``folder`` (created), a partition per street; ``flat``: their
    flat rows (findings.csv's), in the same order. Returns what run.json records."""
    check_format(fmt)
    groups: dict[str, list[tuple[Finding, dict[str, Any]]]] = defaultdict(list)
    for f, row in zip(findings, flat, strict=True):
        groups[partition(f.street)].append((f, row))
    folder.mkdir(parents=True, exist_ok=True)
    for name, mine in sorted(groups.items()):
        part = folder / name
        part.mkdir()
        if fmt == "jsonl":
            lines = (
                json.dumps(_without_street(f.to_dict()), ensure_ascii=False, default=str)
                for f, _ in mine
            )
            (part / "findings.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            _write_parquet(part / "findings.parquet", [_without_street(row) for _, row in mine])
    return {"folder": FOLDER, "format": fmt, "streets": len(groups), "findings": len(findings)}


def _without_street(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "street"}


def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa  # noqa: PLC0415 - the spark extra's, checked by check_format
    import pyarrow.parquet as pq  # noqa: PLC0415

    columns = list(rows[0])
    types = {"confidence": pa.float64()}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in columns])
    table = pa.Table.from_pylist(
        [{c: _cell(c, r.get(c)) for c in columns} for r in rows], schema=schema
    )
    pq.write_table(table, path)


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return None
    return float(value) if column == "confidence" else str(value)
