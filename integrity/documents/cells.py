"""Writing cells into the CSV and XLSX files the tool hands out, without formula injection.

Every value the tool writes out can come from an input ledger or a user (a project title, a
supplier's name, a triage reason), and Excel or WPS evaluates a cell that starts like a formula:
``=HYPERLINK("http://x","点击")`` becomes a live link, ``@SUM(A1)`` or ``+1+1`` a calculation
(OWASP, "CSV Injection"). Every CSV and XLSX writer of the project goes through this module:

- CSV: a text starting with ``= + - @``, TAB or CR (or the full-width ``＝ ＋ － ＠`` that
  spreadsheets in Chinese locales may take the same way) gets a leading ``'``, as OWASP
  recommends; the spreadsheet then shows it as text.
- XLSX: workbooks are made by :func:`new_workbook`, which turns off XlsxWriter's guessing
  (``strings_to_formulas``, ``strings_to_urls``, ``strings_to_numbers``), and cells are written
  by :meth:`SafeWorkbook.write_cell`: text with ``write_string`` (never ``write``), a risky text
  with the ``quote_prefix`` property added to its format, so Excel shows it unchanged, without
  the apostrophe, and does not evaluate it even when the cell is edited.

Numbers (``int``/``float``, not ``bool``) stay numbers; ``None`` and ``""`` stay empty. A text
longer than an XLSX cell holds (32,767 UTF-16 units) is cut with a note saying so, where
XlsxWriter would cut it without one (a district's works-share finding lists hundreds of
projects; the evidence sheet has them a row each).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

# OWASP's list plus the full-width forms: what a spreadsheet may read as the start of a formula
FORMULA_PREFIXES = frozenset("=+-@\t\r＝＋－＠")
CELL_LIMIT = 32_767  # UTF-16 code units an XLSX cell holds
CUT_NOTE = "……（超出 Excel 单元格容量，以下从略 / cut: longer than a cell holds）"


def fit_cell(text: str) -> str:
    """``text`` as a cell holds it: whole, or cut with :data:`CUT_NOTE` at its end."""
    if len(text) <= CELL_LIMIT // 2 or _units(text) <= CELL_LIMIT:
        return text
    room = CELL_LIMIT - _units(CUT_NOTE)
    cut = text[:room]
    while _units(cut) > room:  # characters outside the BMP take two units
        cut = cut[: len(cut) - (_units(cut) - room + 1) // 2]
    return cut + CUT_NOTE


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def is_risky(text: str) -> bool:
    """Whether a spreadsheet could evaluate ``text`` as a formula (its first character)."""
    return text[:1] in FORMULA_PREFIXES


def _is_number(value: object) -> bool:
    """Numbers are written as numbers (numpy's too); ``bool`` is an ``int`` but not a number."""
    return isinstance(value, numbers.Real | Decimal) and not isinstance(value, bool)


def csv_cell(value: object) -> object:
    """``value`` as ``csv.writer`` should get it: a risky text with a leading ``'``, numbers and
    booleans unchanged, ``None`` as ``""``, anything else as its text (neutralised too)."""
    if value is None:
        return ""
    if isinstance(value, bool) or _is_number(value):
        return value
    text = value if isinstance(value, str) else str(value)
    return "'" + text if is_risky(text) else text


def csv_row(values: Iterable[object]) -> list[object]:
    """A row for ``csv.writer.writerow``, each cell through :func:`csv_cell`."""
    return [csv_cell(v) for v in values]


class SafeWorkbook(xlsxwriter.Workbook):  # type: ignore[misc]  # XlsxWriter ships no type info
    """An XlsxWriter workbook that writes text as text and quote-prefixes risky text.

    XlsxWriter formats belong to one workbook and cannot be copied, so the workbook records the
    properties each of its formats was made from (:meth:`add_format`) and makes, once, a sibling
    with the same properties plus ``quote_prefix`` when a risky text is written in that format.
    Make it through :func:`new_workbook`, which also turns off XlsxWriter's string guessing.
    """

    def __init__(self, filename: Any, options: dict[str, Any]) -> None:
        # set before XlsxWriter's constructor, which adds its default formats through add_format
        self._properties: dict[int, dict[str, Any]] = {}
        self._quoted: dict[int | None, Format] = {}
        super().__init__(filename, options)

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        """XlsxWriter's ``add_format``, remembering the properties for the quoted sibling."""
        fmt = super().add_format(properties)
        self._properties[id(fmt)] = dict(properties or {})
        return fmt

    def quoted(self, fmt: Format | None = None) -> Format:
        """``fmt`` plus ``quote_prefix`` (made once per format and workbook)."""
        key = None if fmt is None else id(fmt)
        if key not in self._quoted:
            if key is not None and key not in self._properties:
                raise ValueError("the format was not made by this workbook's add_format")
            base = {} if key is None else self._properties[key]
            self._quoted[key] = super().add_format({**base, "quote_prefix": True})
        return self._quoted[key]

    def write_cell(
        self, ws: Worksheet, row: int, col: int, value: object, fmt: Format | None = None
    ) -> None:
        """Write one cell: numbers as numbers, booleans as booleans, ``None``/``""`` not at all,
        anything else as text, quote-prefixed when a spreadsheet could evaluate it."""
        if value is None or (isinstance(value, str) and not value):
            return
        if isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif _is_number(value):
            ws.write_number(row, col, value, fmt)
        else:
            text = fit_cell(value if isinstance(value, str) else str(value))
            ws.write_string(row, col, text, self.quoted(fmt) if is_risky(text) else fmt)

    def write_row(
        self,
        ws: Worksheet,
        row: int,
        col: int,
        values: Iterable[object],
        fmt: Format | None = None,
    ) -> None:
        """:meth:`write_cell` for each value, from ``col`` rightwards."""
        for c, value in enumerate(values, col):
            self.write_cell(ws, row, c, value, fmt)


def new_workbook(target: Path | BinaryIO, *, constant_memory: bool = False) -> SafeWorkbook:
    """A workbook that never turns a text into a formula, a hyperlink or a number.

    ``target`` is a path or a binary stream (a stream is written in memory, no temporary
    files); ``constant_memory`` streams rows to disk in order (a city's findings), for paths.
    """
    options: dict[str, Any] = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    if isinstance(target, Path):
        options["constant_memory"] = constant_memory
        return SafeWorkbook(str(target), options)
    options["in_memory"] = True
    return SafeWorkbook(target, options)
