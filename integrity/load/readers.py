"""Reading one table's cells from a CSV file or a worksheet, before any interpretation.

CSV encodings are detected, never asked: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's
"Unicode text"), else GB18030 (a superset of GBK and GB2312); charset-normalizer is the last
resort. A file in one of them but for a few undecodable bytes is read in it, and each row that
holds such bytes is named (row, column, byte offset, the bytes in hex) so that it can be fixed
or, with --lenient, skipped. A title row above the header (common in hand-kept ledgers) is
skipped: the header is the first of the top rows that names columns of the table.

A file that cannot be read at all (a workbook that is not one, a CSV that is binary) raises
:class:`ReadError` naming it: never the parser's own exception.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import charset_normalizer
import pandas as pd
from openpyxl import load_workbook

from integrity.errors import InputIssue
from integrity.load.csvcheck import csv_problems, may_hold_line_breaks
from integrity.load.schema import Table, normalise_header, split_unit

HEADER_SEARCH_ROWS = 10
# pandas' reading of a CSV's cells: every cell a string as written, no header guessed, a
# blank line a row of its own (so that rows keep their line numbers)
CELLS_AS_WRITTEN: dict[str, Any] = {
    "header": None,
    "dtype": str,
    "keep_default_na": False,
    "na_filter": False,
    "skip_blank_lines": False,
    "engine": "c",
}


@dataclass
class RawTable:
    """Cells as read: ``frame`` is indexed by spreadsheet row number, columns are positions."""

    headers: list[str]
    frame: pd.DataFrame
    header_row: int
    # data rows holding bytes the file's encoding cannot decode, and one error for each: the
    # loader stops on them, or skips those rows with --lenient
    undecodable_rows: frozenset[int] = frozenset()
    row_issues: list[InputIssue] = field(default_factory=list)


class ReadError(Exception):
    """A file (or one sheet) that cannot be read as a table; ``issues`` says where and why."""

    def __init__(self, issue: InputIssue, *more: InputIssue) -> None:
        super().__init__("\n".join(i.render() for i in (issue, *more)))
        self.issue = issue
        self.issues = [issue, *more]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def files_hash(files: Iterable[tuple[str, str]]) -> str:
    """One SHA-256 over files given as (name, content SHA-256), in name order: the same files
    give the same hash, whatever order they were read in."""
    digest = hashlib.sha256()
    for name, sha in sorted(files):
        digest.update(name.encode())
        digest.update(bytes.fromhex(sha))
    return digest.hexdigest()


def content_hash(root: Path) -> str:
    """A folder's SHA-256 over its files (names and contents), as the service names a
    dataset."""
    return files_hash((p.name, sha256_file(p)) for p in root.iterdir() if p.is_file())


# --------------------------------------------------------------------------- CSV encodings

# the candidates a CSV without a BOM is tried in, and how users know them
_CANDIDATES = ("utf-8", "gb18030")
_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030", "utf-16": "UTF-16"}
# a file "looks like" a candidate when at most this share of its non-ASCII bytes (or at most
# _FEW_BAD_BYTES bytes) cannot be decoded in it; Latin-1 text or binary data fail this by far
_BAD_SHARE = 0.1
_FEW_BAD_BYTES = 8
# rows with undecodable bytes that are each reported and that --lenient may skip; beyond this
# the file is one error: a file damaged so widely is not a few bad bytes
MAX_UNDECODABLE_ROWS = 20
_MARK_ERRORS = "integrity-mark-undecodable"
# noncharacters: they stand in the text for each undecodable byte run, one not in the text
_MARKERS = [chr(c) for c in range(0xFDD0, 0xFDF0)]
_SIGNATURES = {
    b"PK\x03\x04": (
        "文件是 Excel 工作簿（.xlsx）或 zip 压缩包，不是 CSV；如是工作簿，请把扩展名改为 .xlsx",
        "the file is an Excel workbook (.xlsx) or a zip archive, not a CSV; "
        "if it is a workbook, rename it to .xlsx",
    ),
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": (
        "文件是旧版 Excel（.xls）或其他 Office 文件，不是 CSV；请在 Excel 中另存为 .xlsx 或 CSV",
        "the file is an old Excel (.xls) or another Office file, not a CSV; "
        "save it as .xlsx or CSV in Excel",
    ),
}


@dataclass(frozen=True)
class Decoded:
    """A CSV file's text, and the byte runs in it that its encoding cannot decode."""

    text: str
    encoding: str  # as run.json records it
    spans: tuple[tuple[int, int], ...] = ()  # [start, end) byte offsets in the file
    marker: str = ""  # stands in ``text`` for each span, in order

    @property
    def label(self) -> str:
        return _LABELS.get(self.encoding, self.encoding)


@dataclass
class _Marking:
    marker: str
    limit: int | None
    base: int  # offset of the decoded bytes in the file
    spans: list[tuple[int, int]] = field(default_factory=list)
    bad: int = 0


class _TooManyBadBytesError(Exception):
    pass


_MARKING: ContextVar[_Marking | None] = ContextVar("_MARKING", default=None)


def _mark(exc: UnicodeError) -> tuple[str, int]:
    state = _MARKING.get()
    if state is None or not isinstance(exc, UnicodeDecodeError):
        raise exc
    state.spans.append((state.base + exc.start, state.base + exc.end))
    state.bad += exc.end - exc.start
    if state.limit is not None and state.bad > state.limit:
        raise _TooManyBadBytesError
    return state.marker, exc.end


codecs.register_error(_MARK_ERRORS, _mark)


def _decode_marking(data: bytes, encoding: str, base: int, limit: int | None) -> Decoded | None:
    """``data`` decoded with each undecodable run replaced by a marker; None past ``limit``
    undecodable bytes (or, absurdly, if the text holds every marker)."""
    for marker in _MARKERS:
        state = _Marking(marker, limit, base)
        token = _MARKING.set(state)
        try:
            text = data.decode(encoding, errors=_MARK_ERRORS)
        except _TooManyBadBytesError:
            return None
        finally:
            _MARKING.reset(token)
        if text.count(marker) == len(state.spans):
            return Decoded(text, encoding, tuple(state.spans), marker)
    return None


def _decode_with_bom(data: bytes, display: str) -> Decoded:
    if data.startswith(codecs.BOM_UTF8):
        bom = len(codecs.BOM_UTF8)
        decoded = _decode_marking(data[bom:], "utf-8", bom, None)
        if decoded is not None:
            return Decoded(decoded.text, "utf-8-sig", decoded.spans, decoded.marker)
    else:
        decoded = _decode_marking(data, "utf-16", 0, None)
        if decoded is not None:
            return decoded
    raise _encoding_error(display)


def _encoding_error(display: str) -> ReadError:
    return ReadError(
        InputIssue(
            "error",
            "encoding",
            display,
            "无法识别文件编码（支持 UTF-8、GBK/GB18030 和带 BOM 的 UTF-16）",
            "cannot detect the file's encoding "
            "(UTF-8, GBK/GB18030 and UTF-16 with a BOM are supported)",
        )
    )


def decode_bytes(data: bytes, display: str) -> Decoded:
    """A CSV file's text and encoding.

    A BOM decides the encoding. Otherwise UTF-8, then GB18030; a file that is one of them but
    for a few undecodable bytes (at most a tenth of its non-ASCII bytes) is decoded in it with
    those bytes marked (``Decoded.spans``), so that the rows holding them can be named; other
    text goes to charset-normalizer, and binary data (NUL bytes, not UTF-16) is an error.
    """
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_with_bom(data, display)
    for signature, (zh, en) in _SIGNATURES.items():
        if data.startswith(signature):
            raise ReadError(InputIssue("error", "not_csv", display, zh, en))
    for encoding in _CANDIDATES:
        try:
            return Decoded(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            continue
    if b"\x00" in data:
        # UTF-16 without a BOM has NULs; any other text has none
        best = charset_normalizer.from_bytes(data).best()
        if best is not None and str(best.encoding).startswith(("utf_16", "utf_32")):
            return Decoded(str(best), str(best.encoding))
        raise ReadError(
            InputIssue(
                "error",
                "not_text",
                display,
                "文件不是文本格式的 CSV（含二进制内容，可能是其他格式的文件改了扩展名）",
                "the file is not a text CSV (it holds binary data: another format renamed?)",
            )
        )
    # UTF-8 first: it checks itself (GBK text is mostly invalid UTF-8), while GB18030 reads
    # almost any pair of bytes, UTF-8 text included; so a file that is UTF-8 but for a few bad
    # bytes is UTF-8 even where GB18030 would report fewer bad bytes
    non_ascii = len(data.translate(None, bytes(range(128))))
    limit = max(_FEW_BAD_BYTES, int(non_ascii * _BAD_SHARE))
    for encoding in _CANDIDATES:
        decoded = _decode_marking(data, encoding, 0, limit)
        if decoded is not None:
            return decoded
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding is None:
        raise _encoding_error(display)
    return Decoded(str(best), best.encoding)


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


def frame_from_rows(rows: list[list[Any]], table: Table, first_row_number: int) -> RawTable:
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
    # a header and no rows (an empty export) is an empty table of those columns
    frame = (
        pd.DataFrame(body, dtype=object).reindex(columns=range(width))
        if body
        else pd.DataFrame(columns=range(width), dtype=object)
    )
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
    data = path.read_bytes()
    decoded = decode_bytes(data, display)
    text = decoded.text
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, **CELLS_AS_WRITTEN)
    except (pd.errors.ParserError, csv.Error) as exc:
        found = csv_problems(text, delimiter, display, table.name)
        if not found:  # what the parser met but the row-by-row reading did not
            found = [
                InputIssue(
                    "error",
                    "csv_syntax",
                    display,
                    "CSV 格式错误，无法逐行读取",
                    "malformed CSV: it cannot be read row by row",
                    table=table.name,
                )
            ]
        raise ReadError(*found) from exc
    except pd.errors.EmptyDataError:
        return RawTable([], pd.DataFrame(), 1), decoded.encoding
    # a quote left open swallows the following lines into one cell: a cell holding a line
    # break is looked at row by row, and rows merged that way are an error, never data
    if (
        may_hold_line_breaks(text, len(frame))
        and frame.apply(lambda c: c.str.contains("\n", regex=False).any()).any()
    ):
        merged = csv_problems(text, delimiter, display, table.name)
        if merged:
            raise ReadError(*merged)
    marks: dict[int, list[tuple[int | None, tuple[int, int]]]] = {}
    if decoded.spans:
        marks = _locate_marks(frame, decoded)
        frame = frame.apply(lambda c: c.str.replace(decoded.marker, "\ufffd", regex=False))
    head_rows = frame.head(HEADER_SEARCH_ROWS).to_numpy(dtype=object).tolist()
    head = _pick_header(head_rows, table)
    headers = [str(h).strip() for h in frame.iloc[head].tolist()]
    row_issues: list[InputIssue] = []
    if marks:
        names = [h or f"列{i + 1}" for i, h in enumerate(headers)]
        row_issues = _undecodable(marks, decoded, data, names, head + 1, display, table.name)
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
    raw = RawTable(headers, body, head + 1, frozenset(marks), row_issues)
    return raw, decoded.encoding


def _locate_marks(
    frame: pd.DataFrame, decoded: Decoded
) -> dict[int, list[tuple[int | None, tuple[int, int]]]]:
    """Spreadsheet row -> (column position, byte span) of each undecodable run, in file order.

    The parser keeps every character of a cell, so the n-th marker in row-major cell order is
    the n-th span; should the counts ever differ, rows are counted as lines of text instead."""
    counts = pd.DataFrame(
        {c: frame[c].str.count(decoded.marker) for c in frame.columns}, index=frame.index
    )
    counts = counts.fillna(0).astype(int)
    marks: dict[int, list[tuple[int | None, tuple[int, int]]]] = defaultdict(list)
    spans = iter(decoded.spans)
    if int(counts.to_numpy().sum()) == len(decoded.spans):
        for idx in counts.index[counts.to_numpy().sum(axis=1) > 0]:
            for pos, n in enumerate(counts.loc[idx].tolist()):
                marks[int(idx) + 1].extend((pos, next(spans)) for _ in range(n))
    else:
        at = 0
        for span in spans:
            at = decoded.text.index(decoded.marker, at) + 1
            marks[decoded.text.count("\n", 0, at) + 1].append((None, span))
    return dict(marks)


def _undecodable(
    marks: dict[int, list[tuple[int | None, tuple[int, int]]]],
    decoded: Decoded,
    data: bytes,
    headers: list[str],
    header_row: int,
    display: str,
    table: str,
) -> list[InputIssue]:
    """One error per row holding undecodable bytes (at most MAX_UNDECODABLE_ROWS); raises
    :class:`ReadError` when the rows cannot be skipped: too many of them, a header or title
    row, or a row that reads in the other encoding (a file that mixes two)."""
    label = decoded.label
    other = {"utf-8": "gb18030", "utf-8-sig": "gb18030", "gb18030": "utf-8"}.get(decoded.encoding)
    issues: list[InputIssue] = []
    fatal = len(marks) > MAX_UNDECODABLE_ROWS
    for row, found in sorted(marks.items())[:MAX_UNDECODABLE_ROWS]:
        runs = _merge_runs([span for _, span in found])
        shown = [(data[a:b], a + 1) for a, b in runs[:5]]
        zh = "、".join(f"{_hex(b)}（文件第 {n} 字节）" for b, n in shown)
        en = ", ".join(f"{_hex(b)} (byte {n} of the file)" for b, n in shown)
        if len(runs) > len(shown):
            zh += f" 等 {len(runs)} 处"
            en += f" and {len(runs) - len(shown)} more"
        zh = f"有无法按 {label} 解码的字节 {zh}；其余内容为 {label} 编码"
        en = f"bytes {en} cannot be decoded as {label}; the rest of the file is {label}"
        if row <= header_row:
            fatal = True
            zh += "；这是表头（或表头上方的标题行），不能跳过"
            en += "; this is the header (or a title row above it) and cannot be skipped"
        elif other is not None and _mixed(data, runs, other):
            fatal = True
            zh += f"；该行可按 {_LABELS[other]} 解码，文件可能混用了两种编码，请统一另存为一种"
            en += (
                f"; the row reads as {_LABELS[other]}: the file may mix two encodings, "
                "save it in one"
            )
        pos = found[0][0]
        fatal = fatal or pos is None  # rows were counted as lines: not sure enough to skip
        column = headers[pos] if pos is not None and row > header_row else None
        issues.append(
            InputIssue("error", "undecodable", display, zh, en, row=row, column=column, table=table)
        )
    if len(marks) > MAX_UNDECODABLE_ROWS:
        rest = len(marks) - MAX_UNDECODABLE_ROWS
        issues.append(
            InputIssue(
                "error",
                "undecodable",
                display,
                f"另有 {rest} 行也含无法按 {label} 解码的字节（共 {len(marks)} 行）；"
                "损坏过多，整个文件未读取，请重新导出或另存为 UTF-8",
                f"{rest} more rows hold bytes that cannot be decoded as {label} "
                f"({len(marks)} in all); too many to skip, the file was not read: "
                "export it again or save it as UTF-8",
                table=table,
            )
        )
    if fatal:
        raise ReadError(*issues)
    return issues


def _merge_runs(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for start, end in spans:
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


def _hex(data: bytes) -> str:
    return data[:16].hex(" ") + (" …" if len(data) > 16 else "")


def _mixed(data: bytes, runs: list[tuple[int, int]], encoding: str) -> bool:
    """Whether the line holding the first run reads in ``encoding`` instead: a file that mixes
    two encodings (rows appended from another export), not a few damaged bytes.

    UTF-8 checks itself, so a line that reads as UTF-8 is UTF-8. GB18030 reads almost any pair
    of bytes, a cut UTF-8 character too, so a line counts as GB18030 only if most of its
    non-ASCII bytes are undecodable as UTF-8."""
    start = data.rfind(b"\n", 0, runs[0][0]) + 1
    end = data.find(b"\n", runs[0][0])
    end = len(data) if end < 0 else end
    line = data[start:end]
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    if encoding == "utf-8":
        return True
    bad = sum(min(b, end) - a for a, b in runs if a < end)
    return bad * 2 >= len(line.translate(None, bytes(range(128))))


# --------------------------------------------------------------------------- workbooks

_WORKBOOK_ZH = (
    "无法读取工作簿：文件不是有效的 Excel .xlsx 文件（可能是其他格式改了扩展名，或文件已损坏）"
)
_WORKBOOK_EN = (
    "cannot read the workbook: the file is not a valid Excel .xlsx file "
    "(another format renamed to .xlsx, or a damaged file)"
)


def _unreadable_workbook(path: Path, display: str, *, no_sheets: bool = False) -> ReadError:
    """The error for a workbook openpyxl cannot read, with what the file seems to be instead."""
    try:
        head = path.read_bytes()[:4096]
    except OSError:  # pragma: no cover - it was readable a moment ago
        head = b""
    if not head:
        detail = ("文件是空的（0 字节）", "The file is empty (0 bytes)")
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        detail = (
            "这是旧版 .xls 或加密的工作簿，请在 Excel 中另存为不加密的 .xlsx",
            "It is an old .xls or an encrypted workbook: save it as an unencrypted .xlsx in Excel",
        )
    elif not head.startswith(b"PK") and _looks_like_text(head):
        detail = (
            "文件内容是文本，可能是 CSV，请把扩展名改为 .csv",
            "The file holds text, perhaps a CSV: rename it to .csv",
        )
    elif no_sheets:
        detail = ("工作簿中没有工作表", "The workbook has no worksheet")
    else:
        detail = None
    zh, en = _WORKBOOK_ZH, _WORKBOOK_EN
    if detail is not None:
        zh, en = f"{zh}。{detail[0]}", f"{en}. {detail[1]}"
    return ReadError(InputIssue("error", "unreadable_workbook", display, zh, en))


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in _CANDIDATES:
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


# openpyxl raises whatever its zip, XML and value parsers raise on a file that is not a sound
# workbook (BadZipFile, InvalidFileException, KeyError, ParseError, ValueError, ...): each of
# them, anywhere while a workbook is read, is about the user's file, so each is a ReadError.


def iter_sheet_rows(path: Path, sheet: str, display: str | None = None) -> Iterator[list[Any]]:
    """The rows of one worksheet; :class:`ReadError` if the workbook cannot be read."""
    display = display or f"{path.name}#{sheet}"
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable_workbook(path, display) from exc
    try:
        for row in workbook[sheet].iter_rows(values_only=True):
            yield list(row)
    except Exception as exc:
        raise _unreadable_workbook(path, display) from exc
    finally:
        workbook.close()


def sheet_names(path: Path, display: str | None = None) -> list[str]:
    """The sheets of a workbook, at least one; :class:`ReadError` if it cannot be read."""
    display = display or path.name
    try:
        workbook = load_workbook(path, read_only=True)
    except Exception as exc:
        raise _unreadable_workbook(path, display) from exc
    try:
        names = list(workbook.sheetnames)
    finally:
        workbook.close()
    if not names:
        raise _unreadable_workbook(path, display, no_sheets=True)
    return names


def read_sheet(path: Path, sheet: str, table: Table, display: str | None = None) -> RawTable:
    """Cells of one worksheet (native types: str, int, float, datetime)."""
    return frame_from_rows(list(iter_sheet_rows(path, sheet, display)), table, 1)
