"""Reading one table's cells from a CSV file or a worksheet, before any interpretation.

CSV encodings are detected, never asked: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's
"Unicode text"), else GB18030 (a superset of GBK and GB2312); charset-normalizer is the last
resort. A title row above the header (common in hand-kept ledgers) is skipped: the header is
the first of the top rows that names columns of the table.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import pandas as pd
from openpyxl import load_workbook

from integrity.errors import InputIssue
from integrity.schema import Table, normalise_header, split_unit

HEADER_SEARCH_ROWS = 10


@dataclass
class RawTable:
    """Cells as read: ``frame`` is indexed by spreadsheet row number, columns are positions."""

    headers: list[str]
    frame: pd.DataFrame
    header_row: int


class ReadError(Exception):
    def __init__(self, issue: InputIssue) -> None:
        super().__init__(issue.render())
        self.issue = issue


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode_bytes(data: bytes, display: str) -> tuple[str, str]:
    """(text, encoding name) of a CSV file's bytes."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding is None:
        raise ReadError(
            InputIssue(
                "error",
                "encoding",
                display,
                "无法识别文件编码（支持 UTF-8、GBK/GB18030）",
                "cannot detect the file's encoding (UTF-8 and GBK/GB18030 are supported)",
            )
        )
    return str(best), best.encoding


def _header_score(cells: Iterable[Any], table: Table) -> tuple[int, int]:
    """(known columns named, required columns named) by a candidate header row."""
    names = {split_unit(normalise_header(c))[0] for c in cells if c not in (None, "")}
    lookup = column_lookup(table)
    hits = {lookup[n] for n in names if n in lookup}
    required = {c.name for c in table.columns if c.required}
    return len(hits), len(hits & required)


def column_lookup(table: Table) -> dict[str, str]:
    """Normalised header -> contract column name, for every name and alias of the table."""
    lookup: dict[str, str] = {}
    for column in table.columns:
        for alias in (column.name, *column.aliases):
            lookup.setdefault(normalise_header(alias), column.name)
    return lookup


def _pick_header(rows: list[list[Any]], table: Table) -> int:
    best, best_score = 0, (-1, -1)
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits, required = _header_score(row, table)
        if hits == 0:
            continue
        score = (required, hits)
        if score > best_score:
            best, best_score = i, score
    return best


def _frame_from_rows(rows: list[list[Any]], table: Table, first_row_number: int) -> RawTable:
    if not rows:
        return RawTable([], pd.DataFrame(), first_row_number)
    head = _pick_header(rows, table)
    header_cells = rows[head]
    width = max(len(r) for r in rows)
    headers = [
        "" if i >= len(header_cells) or header_cells[i] is None else str(header_cells[i]).strip()
        for i in range(width)
    ]
    body = rows[head + 1 :]
    frame = pd.DataFrame(body, dtype=object)
    if body:
        frame = frame.reindex(columns=range(width))
    frame.index = pd.RangeIndex(
        first_row_number + head + 1, first_row_number + head + 1 + len(body)
    )
    # a column with no header and no content is Excel's formatting residue
    keep = [i for i, h in enumerate(headers) if h or (len(frame) and frame[i].map(_filled).any())]
    frame = frame[keep]
    frame.columns = pd.RangeIndex(len(keep))
    headers = [headers[i] or f"列{i + 1}" for i in keep]
    if len(frame):
        filled = frame.map(_filled).any(axis=1)
        frame = frame[filled]
    return RawTable(headers, frame, first_row_number + head)


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def read_csv(path: Path, display: str, table: Table) -> tuple[RawTable, str]:
    """Cells of a CSV file (all strings) and the encoding it was in."""
    text, encoding = decode_bytes(path.read_bytes(), display)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise ReadError(
            InputIssue(
                "error",
                "csv_syntax",
                display,
                f"CSV 格式错误：{exc}",
                f"malformed CSV: {exc}",
            )
        ) from exc
    except pd.errors.EmptyDataError:
        return RawTable([], pd.DataFrame(), 1), encoding
    head_rows = frame.head(HEADER_SEARCH_ROWS).to_numpy(dtype=object).tolist()
    head = _pick_header(head_rows, table)
    headers = [str(h).strip() for h in frame.iloc[head].tolist()]
    body = frame.iloc[head + 1 :]
    body.index = pd.RangeIndex(head + 2, head + 2 + len(body))
    keep = [
        i for i, h in enumerate(headers) if h or (body[body.columns[i]].str.strip() != "").any()
    ]
    body = body.iloc[:, keep]
    body.columns = pd.RangeIndex(len(keep))
    headers = [headers[i] or f"列{i + 1}" for i in keep]
    if len(body):
        body = body[(body != "").any(axis=1)]  # blank lines; a row of spaces only is kept
    return RawTable(headers, body, head + 1), encoding


def iter_sheet_rows(path: Path, sheet: str) -> Iterator[list[Any]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        yield from (list(r) for r in workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()


def sheet_names(path: Path) -> list[str]:
    workbook = load_workbook(path, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def read_sheet(path: Path, sheet: str, table: Table) -> RawTable:
    """Cells of one worksheet (native types: str, int, float, datetime)."""
    return _frame_from_rows(list(iter_sheet_rows(path, sheet)), table, 1)
