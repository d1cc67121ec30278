"""A CSV's syntax, row by row: every row with more fields than the table's rows have, every
quote left open or closed amiss, and a quote that swallows the following lines into one cell,
each named at its line in Chinese and English (read with Python's csv module, so that all are
found, not the first; pandas' parser stops at one and says it in its own words)."""

from __future__ import annotations

import csv
import io
from collections import Counter

from integrity.errors import InputIssue

MAX_CSV_PROBLEMS = 50


def _record_width(counts: Counter[int]) -> int:
    """The width most rows have (a title row above the header has fewer fields)."""
    return counts.most_common(1)[0][0] if counts else 0


def csv_problems(text: str, delimiter: str, display: str, table: str) -> list[InputIssue]:
    """Every syntax problem of a CSV, each at its row (the line it starts on): a row with more
    fields than the table's rows have (a comma inside a cell that is not quoted), and a quote
    left open that swallows the lines after it into one cell, or runs to the end of the file.
    Python's csv module reads the rows one by one, so that all are found, not the first."""
    records: list[tuple[int, int, list[str]]] = []  # (first line, last line, fields)
    broken: list[int] = []  # rows where a quote is left open or closed amiss
    lines = io.StringIO(text).readlines()  # the line ends csv counts (not U+2028 and the like)
    offset = 0  # lines before the part being read
    while offset < len(lines) and len(broken) < MAX_CSV_PROBLEMS:
        reader = csv.reader(io.StringIO("".join(lines[offset:])), delimiter=delimiter, strict=True)
        start = offset + 1
        try:
            for fields in reader:
                records.append((start, offset + reader.line_num, fields))
                start = offset + reader.line_num + 1
            break
        except csv.Error:
            broken.append(start)
            offset = start  # read on from the line after the broken one
    widths = Counter(len(f) for _, _, f in records[:200] if any(x.strip() for x in f))
    width = _record_width(widths)
    issues: list[InputIssue] = []

    def add(row: int, zh: str, en: str) -> None:
        issues.append(InputIssue("error", "csv_syntax", display, zh, en, row=row, table=table))

    for first, last, fields in records:
        if len(issues) >= MAX_CSV_PROBLEMS:
            break
        if last > first and any(
            line.count(delimiter) >= max(width - 1, 1)
            for cell in fields
            for line in cell.split("\n")[1:]
        ):
            add(
                first,
                f"引号未闭合：第{first}行的引号把第{first + 1}–{last}行并入了同一格"
                "（请检查该行的引号）",
                f"a quote left open: row {first} swallows rows {first + 1}-{last} into one cell",
            )
        elif width and len(fields) > width:
            add(
                first,
                f"有{len(fields)}个字段，多于其余各行的{width}个（可能是未加引号的逗号）",
                f"{len(fields)} fields where the other rows have {width} (an unquoted comma?)",
            )
    for row in broken:
        add(
            row,
            "引号有误：该行的引号未闭合，或引号后缺少分隔符（该行无法读取，请检查引号）",
            "a quote on this row is left open or not followed by a separator",
        )
    return sorted(issues, key=lambda i: i.row or 0)[:MAX_CSV_PROBLEMS]


def may_hold_line_breaks(text: str, rows: int) -> bool:
    """Whether a cell of the parsed text may hold a line break: only a quoted cell can, and
    then the parser finds fewer rows than the text has lines (``\\n``, ``\\r\\n`` or a lone
    ``\\r`` ends one). Counted at C speed, where looking into every cell took most of a
    second on a city's files."""
    if '"' not in text:
        return False
    lines = text.count("\n") + text.count("\r") - text.count("\r\n")
    if text and not text.endswith(("\n", "\r")):
        lines += 1
    return rows != lines
