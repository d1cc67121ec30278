"""The one workbook writer every xlsx the tool hands out goes through (the scan's findings and
lists, the inspection sample, the service's exports): Chinese headers, column widths from the
content, wrapped long text, a filter and a frozen header row, and A4 landscape fitted to the
page width with the header row repeated on every printed page, page numbers in the footer.
Cells are written by integrity.documents.cells, so no text becomes a formula or a link.

A sheet is declared as columns (key, header, how wide at most, wrapped or not, a number
format) and rows of dicts; the widths are measured on the rows before they are written, as
Excel counts them (a Chinese character takes two).
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from integrity.documents.cells import SafeWorkbook, new_workbook

A4 = 9  # Excel's paper code
HEADER_FILL = "#DCE6F1"
MIN_WIDTH, PADDING = 6.0, 2.0
FOOTER = "&C第 &P 页，共 &N 页"
LINE_HEIGHT, MAX_ROW_HEIGHT = 15.0, 409.0  # points (Excel's largest row)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    max_width: float = 40.0  # longer text wraps within this width
    wrap: bool = False
    number_format: str | None = None  # e.g. "0%" for a share, "0.00" for 万元


@dataclass
class Sheet:
    name: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]
    title: str | None = None  # a line above the header, printed with it
    notes: list[str] = field(default_factory=list)  # lines under the table
    # print only the first n columns (the rest are for the screen: filters, long detail)
    print_columns: int | None = None


def display_width(text: str) -> float:
    """How many character widths Excel gives ``text``'s longest line (wide characters: 2)."""
    return max(_line_width(line) for line in text.split("\n"))


def _line_width(line: str) -> float:
    n_narrow = len(line.translate(_narrow_only()))
    return 2.0 * (len(line) - n_narrow) + 1.1 * n_narrow


@functools.cache
def _narrow_only() -> dict[int, None]:
    """A str.translate table deleting the characters Unicode calls wide or full-width (East
    Asian Width W or F, from this Python's unicodedata; planes 4 and up hold none): what is
    left is counted at C speed, where a call per character took seconds on a city's findings."""
    return {cp: None for cp in range(0x40000) if unicodedata.east_asian_width(chr(cp)) in "WF"}


def _cell_text(value: object, column: Column) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and column.number_format == "0%":
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def widths(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> list[float]:
    """Each column's width: its header's or its widest cell's, at most ``max_width``."""
    out = [display_width(c.header) for c in columns]
    # a text of n characters is at most 2n wide: cells that cannot widen a column (or a
    # column already at its most) are not measured
    most = [c.max_width - PADDING for c in columns]
    for row in rows:
        for i, c in enumerate(columns):
            if out[i] >= most[i]:
                continue
            text = _cell_text(row.get(c.key), c)
            if 2.0 * len(text) > out[i]:
                out[i] = max(out[i], display_width(text))
    return [
        min(max(w + PADDING, MIN_WIDTH), c.max_width) for w, c in zip(out, columns, strict=True)
    ]


def row_height(columns: Sequence[Column], sizes: Sequence[float], row: dict[str, Any]) -> float:
    """Points: a line's height times the most lines a wrapped cell of the row takes."""
    lines = 1
    tallest = math.ceil((MAX_ROW_HEIGHT - 3) / LINE_HEIGHT)  # more lines are not shown
    for c, width in zip(columns, sizes, strict=True):
        if not c.wrap or lines >= tallest:
            continue
        text = _cell_text(row.get(c.key), c)
        room = max(width - PADDING, 1.0)
        if "\n" in text:
            needed = sum(_lines(t, room) for t in text.split("\n"))
        elif 2.0 * len(text) > room:  # else one line, however wide its characters
            needed = _lines(text, room)
        else:
            continue
        lines = max(lines, needed)
    return min(LINE_HEIGHT * lines + 3, MAX_ROW_HEIGHT)


def _lines(line: str, room: float) -> int:
    """How many lines of ``room`` a line of text wraps into (at least one; less a rounding
    error: the widest cell set the column's width and fits in one line)."""
    return max(1, math.ceil(_line_width(line) / room - 1e-9))


def _write_sheet(wb: SafeWorkbook, sheet: Sheet, used: set[str]) -> None:
    ws = wb.add_worksheet(sheet_name(sheet.name, used))
    head = wb.add_format(
        {"bold": True, "bg_color": HEADER_FILL, "border": 1, "text_wrap": True, "valign": "top"}
    )
    title = wb.add_format({"bold": True, "font_size": 13})
    formats = {}
    for c in sheet.columns:
        props: dict[str, Any] = {"valign": "top", "border": 1}
        if c.wrap:
            props["text_wrap"] = True
        if c.number_format:
            props["num_format"] = c.number_format
        formats[c.key] = wb.add_format(props)
    sizes = widths(sheet.columns, sheet.rows)
    for i, width in enumerate(sizes):
        ws.set_column(i, i, width)
    top = 0
    if sheet.title:
        wb.write_cell(ws, 0, 0, sheet.title, title)
        top = 1
    headers = [replace(c, wrap=True) for c in sheet.columns]
    ws.set_row(top, row_height(headers, sizes, {c.key: c.header for c in sheet.columns}))
    wb.write_row(ws, top, 0, [c.header for c in sheet.columns], head)
    for r, row in enumerate(sheet.rows, top + 1):
        # the height the wrapped text needs: spreadsheets do not all grow a row on opening
        # (of the printed columns: the rest are read on screen, a cell at a time)
        n = sheet.print_columns or len(sheet.columns)
        ws.set_row(r, row_height(sheet.columns[:n], sizes[:n], row))
        for i, c in enumerate(sheet.columns):
            value = row.get(c.key)
            if value is None or value == "":
                ws.write_blank(r, i, None, formats[c.key])  # the cell keeps its border
            else:
                wb.write_cell(ws, r, i, value, formats[c.key])
    last = top + len(sheet.rows)
    for n, note in enumerate(sheet.notes, last + 2):
        wb.write_cell(ws, n, 0, note)
    ws.freeze_panes(top + 1, 0)
    ws.autofilter(top, 0, max(last, top), len(sheet.columns) - 1)
    if sheet.print_columns:
        ws.print_area(0, 0, max(last, top) + len(sheet.notes) + 1, sheet.print_columns - 1)
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)  # the page's width, as many pages down as it takes
    ws.repeat_rows(0, top) if sheet.title else ws.repeat_rows(top)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(FOOTER)
    if sheet.title:
        ws.set_header(f"&C{_header_text(sheet.title)}")


def _header_text(text: str) -> str:
    """A title as an Excel page header takes it (``&`` starts a code there)."""
    return text.replace("&", "&&")[:200]


def write_workbook(target: Path | BinaryIO, sheets: Sequence[Sheet]) -> None:
    """The sheets as one workbook, to a file or a binary stream (rows streamed in constant
    memory to a file: a city's findings)."""
    wb = new_workbook(target, constant_memory=isinstance(target, Path))
    try:
        used: set[str] = set()
        for sheet in sheets:
            _write_sheet(wb, sheet, used)
    finally:
        wb.close()


def sheet_name(name: str, used: set[str]) -> str:
    """A worksheet name Excel takes: without []:*?/\\, not starting or ending with an
    apostrophe, at most 31 characters, and unlike the names taken before (Excel compares them
    ignoring case): 「A/B街道」 and 「AB街道」 get 「AB街道」 and 「AB街道(2)」."""
    bad = set("[]:*?/\\")
    base = (
        "".join(ch for ch in name if ch not in bad).strip("'").strip()[:31].strip("'") or "未注明"
    )
    out, n = base, 1
    while out.casefold() in used:
        n += 1
        suffix = f"({n})"
        out = base[: 31 - len(suffix)] + suffix
    used.add(out.casefold())
    return out
