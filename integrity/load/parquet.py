"""Parquet files in a dataset folder (a data platform's export of a registry or a roster):
read as a worksheet is, the column names as the header row, so the same headers, coercion
and checks apply; through pyarrow, which the ``spark`` extra installs."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from integrity.errors import InputIssue
from integrity.load.readers import RawTable, ReadError, frame_from_rows
from integrity.load.schema import Table


def read_parquet(path: Path, display: str, table: Table) -> RawTable:
    """Cells of a Parquet file, as a worksheet's: its column names are the header (row 1),
    its records rows 2, 3, ...; values of its own types (text, numbers, dates, booleans) are
    coerced as a workbook's cells are. Needs pyarrow (the ``spark`` extra)."""
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415 - optional: the spark extra's
    except ImportError:
        raise ReadError(
            InputIssue(
                "error",
                "parquet_needs_pyarrow",
                display,
                "读取 Parquet 文件需要 pyarrow：pip install 'integrity[spark]'",
                "reading a Parquet file needs pyarrow: pip install 'integrity[spark]'",
            )
        ) from None
    try:
        data = pq.read_table(path)
    except Exception as exc:  # pyarrow's errors: not Parquet, damaged, unsupported
        raise ReadError(
            InputIssue(
                "error",
                "not_parquet",
                display,
                f"无法读取 Parquet 文件（文件不是有效的 Parquet，或已损坏）：{type(exc).__name__}",
                f"cannot read the Parquet file (not valid Parquet, or damaged): "
                f"{type(exc).__name__}",
            )
        ) from None
    columns = [[_parquet_cell(v) for v in column.to_pylist()] for column in data.columns]
    rows: list[list[Any]] = [list(data.column_names), *map(list, zip(*columns, strict=True))]
    return frame_from_rows(rows, table, 1)


# the districts' clock: a timestamp stored with a zone (Spark writes them in UTC) is read as
# the date and time it was in China, not in UTC (midnight in Shenzhen is the day before in UTC)
LOCAL_TIME = ZoneInfo("Asia/Shanghai")


def _parquet_cell(value: Any) -> Any:
    """A Parquet value as a worksheet cell holds it (a date as a datetime at midnight; a
    timestamp with a zone as China's local time; one without, as written)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(LOCAL_TIME).replace(tzinfo=None)
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return datetime.datetime(value.year, value.month, value.day)
    if isinstance(value, Decimal):
        return str(value)
    return value
