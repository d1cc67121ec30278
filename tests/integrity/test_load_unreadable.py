"""Loading files that cannot be read as they stand: workbooks that are not workbooks, binary
CSVs, bytes the file's encoding cannot decode — each an error naming file, row and column
(split out of test_load.py)."""

from __future__ import annotations

import codecs
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from integrity.load.csvcheck import may_hold_line_breaks
from integrity.load.dataset import load_dataset
from integrity.load.readers import CELLS_AS_WRITTEN
from tests.conftest import STAFF_HEADER, STAFF_ROWS, WriteCsv
from tests.integrity.test_load import PROJECT_HEADER, assert_names, errors_of


def workbook_bytes() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "项目台账"
    ws.append(PROJECT_HEADER)
    ws.append(["P1", "路灯", "工程类", 100])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rezip(data: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """The zip ``data`` with each member passed through ``change`` (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            member = change(name, src.read(name))
            if member is not None:
                dst.writestr(name, member)
    return out.getvalue()


def a_zip_that_is_not_a_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        dst.writestr("说明.txt", "不是工作簿")
    return out.getvalue()


def sheet(change: Callable[[bytes], bytes | None]) -> Callable[[], bytes]:
    def make() -> bytes:
        return rezip(
            workbook_bytes(),
            lambda name, data: change(data) if name.startswith("xl/worksheets/sheet") else data,
        )

    return make


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


@pytest.mark.parametrize(
    ("name", "content", "file", "detail"),
    [
        ("projects.xlsx", "项目编号,项目名称\nP1,路灯\n".encode, "projects.xlsx", ".csv"),
        ("projects.xlsx", lambda: b"", "projects.xlsx", "0 字节"),
        ("台账.xlsm", lambda: b"", "台账.xlsm", "0 字节"),  # not named after a table
        ("projects.xlsx", lambda: OLE2, "projects.xlsx", ".xls"),
        ("projects.xlsx", a_zip_that_is_not_a_workbook, "projects.xlsx", None),
        ("projects.xlsx", lambda: workbook_bytes()[:2000], "projects.xlsx", None),  # cut short
        ("projects.xlsx", sheet(lambda _: None), "projects.xlsx", "没有工作表"),
        ("projects.xlsx", sheet(lambda d: d[: len(d) // 2]), "projects.xlsx#项目台账", None),
        # a sound zip and workbook whose sheet has a number cell that is not a number
        (
            "projects.xlsx",
            sheet(lambda d: d.replace(b"<v>100</v>", b"<v>abc</v>")),
            "projects.xlsx#项目台账",
            None,
        ),
    ],
    ids=[
        "text",
        "empty",
        "empty-xlsm",
        "xls",
        "other-zip",
        "truncated",
        "no-sheet-part",
        "broken-sheet-xml",
        "bad-cell",
    ],
)
def test_a_file_that_is_not_a_workbook_is_an_error_naming_it(
    write_csv: WriteCsv,
    name: str,
    content: Callable[[], bytes],
    file: str,
    detail: str | None,
) -> None:
    root = write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    (root / name).write_bytes(content())
    (issue,) = errors_of(root)
    assert issue.code == "unreadable_workbook"
    assert_names(issue, file, None, None)
    assert issue.message_zh.startswith(
        "无法读取工作簿：文件不是有效的 Excel .xlsx 文件（可能是其他格式改了扩展名，或文件已损坏）"
    )
    assert issue.message_en.startswith("cannot read the workbook: the file is not a valid")
    if detail is not None:
        assert detail in issue.message_zh
    if name.startswith("projects"):
        assert issue.table == "projects"


def test_a_dataset_that_is_one_unreadable_workbook(tmp_path: Path) -> None:
    book = tmp_path / "2024年台账.xlsx"
    book.write_text("工号,姓名\n", encoding="utf-8")
    (issue,) = errors_of(book)
    assert (issue.code, issue.file) == ("unreadable_workbook", "2024年台账.xlsx")


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (lambda: bytes(range(256)) * 8, "not_text", "二进制"),
        (lambda: random.Random(1).randbytes(4000), "not_text", "二进制"),
        (workbook_bytes, "not_csv", ".xlsx"),  # a workbook saved as .csv
        (lambda: OLE2, "not_csv", ".xls"),
    ],
    ids=["bytes", "random", "xlsx", "xls"],
)
def test_a_binary_csv_is_an_error_naming_it(
    write_csv: WriteCsv, content: Callable[[], bytes], code: str, words: str
) -> None:
    root = write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    (root / "projects.csv").write_bytes(content())
    (issue,) = errors_of(root)
    assert (issue.code, issue.table) == (code, "projects")
    assert_names(issue, "projects.csv", None, None)
    assert words in issue.message_zh


# --------------------------------------------------------------------------- undecodable bytes

GBK_STAFF = "工号,姓名,街道\nA1,张三,坂田街道\n".encode("gbk")
UTF8_STAFF = "工号,姓名,街道\nA1,张三,坂田街道\n".encode()
UTF16_STAFF = codecs.BOM_UTF16_LE + "工号,姓名\nA1,张三\nA2,x".encode("utf-16-le")


@pytest.mark.parametrize(
    ("content", "row", "column", "label", "bad", "offset"),
    [
        # the example of a GBK file with one bad byte run: GB18030 reads fe 81, not ff
        (GBK_STAFF + b"A2,\xff\xfe\x81,x\n", 3, "姓名", "GB18030", "ff", len(GBK_STAFF) + 4),
        (GBK_STAFF + b"A2,x,\xb0\n", 3, "街道", "GB18030", "b0", len(GBK_STAFF) + 6),
        (UTF8_STAFF + b"A2,\xe6\x9d\x8e\xff,x\n", 3, "姓名", "UTF-8", "ff", len(UTF8_STAFF) + 7),
        # a BOM decides UTF-8; the offset counts it
        (
            codecs.BOM_UTF8 + UTF8_STAFF + b"A2,x,\xff\xfe\n",
            3,
            "街道",
            "UTF-8",
            "ff fe",
            3 + len(UTF8_STAFF) + 6,
        ),
        # a quoted line break: the row is the spreadsheet row, not the line of text
        (UTF8_STAFF + b'A2,"x\ny",z\nA3,\xff,z\n', 4, "姓名", "UTF-8", "ff", len(UTF8_STAFF) + 15),
        # UTF-16 cut in the middle of a character
        (UTF16_STAFF + b"y", 3, "姓名", "UTF-16", "79", len(UTF16_STAFF) + 1),
    ],
    ids=["gbk", "gbk-last-byte", "utf8", "utf8-bom", "quoted-newline", "utf16-cut"],
)
def test_undecodable_bytes_are_named_by_row_column_and_offset(
    tmp_path: Path, content: bytes, row: int, column: str, label: str, bad: str, offset: int
) -> None:
    (tmp_path / "staff.csv").write_bytes(content)
    (issue,) = errors_of(tmp_path)
    assert (issue.code, issue.table) == ("undecodable", "staff")
    assert_names(issue, "staff.csv", row, column)
    assert content[offset - 1 : offset - 1 + len(bytes.fromhex(bad))] == bytes.fromhex(bad)
    assert issue.message_zh == (
        f"有无法按 {label} 解码的字节 {bad}（文件第 {offset} 字节）；其余内容为 {label} 编码"
    )
    assert issue.message_en == (
        f"bytes {bad} (byte {offset} of the file) cannot be decoded as {label}; "
        f"the rest of the file is {label}"
    )


def test_lenient_skips_the_rows_with_undecodable_bytes(tmp_path: Path) -> None:
    content = (
        GBK_STAFF
        + b"A2,\xff,x\n"
        + "A3,李四,南湾街道\n".encode("gbk")
        + b"A4,\x81,\xff\n"  # two runs in one row: one issue
        + "A5,王五,布吉街道\n".encode("gbk")
    )
    (tmp_path / "staff.csv").write_bytes(content)
    assert [i.row for i in errors_of(tmp_path)] == [3, 5]
    ds = load_dataset(tmp_path, lenient=True)
    staff = ds.table("staff")
    assert staff["staff_id"].tolist() == ["A1", "A3", "A5"]
    assert staff["name"].tolist() == ["张三", "李四", "王五"]
    assert ds.skipped_rows == {"staff": 2}
    assert ds.sources[0].encoding == "gb18030"
    listed = [i for i in ds.issues if i.level == "error"]
    assert [(i.code, i.row) for i in listed] == [("undecodable", 3), ("undecodable", 5)]
    assert "\\x" not in repr(listed[1].message_en) and "ff" in listed[1].message_zh


def test_a_row_with_undecodable_bytes_is_one_error_not_one_per_cell(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv("projects.csv", PROJECT_HEADER, [["P1", "路灯", "工程类", "100"]])
    with (root / "projects.csv").open("ab") as fh:
        fh.write(b"P2,x,\xff,100\nP1,y,\xe5\xb7\xa5\xe7\xa8\x8b\xe7\xb1\xbb,100\n")
    issues = errors_of(root)
    # row 3's category is not also "unknown", and its key does not count against row 4's
    assert [(i.code, i.row) for i in issues] == [("undecodable", 3), ("duplicate_key", 4)]
    assert issues[0].column == "项目类别"


@pytest.mark.parametrize(
    ("content", "rows", "reason"),
    [
        # the header cannot be skipped
        ("工号,姓名,街".encode("gbk") + b"\xff\n" + "A1,张三,坂田\n".encode("gbk"), [1], "表头"),
        # a row in UTF-8 appended to a GBK file: two encodings, not a damaged byte
        (GBK_STAFF + "A2,王五,布吉街\n".encode(), [3], "混用"),
        # too many to skip: 20 listed, and the rest counted
        (
            GBK_STAFF
            + b"".join(
                f"A{i},".encode() + b"\xff" + "张三,坂田街道办事处\n".encode("gbk")
                for i in range(25)
            ),
            [*range(3, 23), None],
            "另有 5 行",
        ),
    ],
    ids=["header", "mixed", "too-many"],
)
def test_undecodable_bytes_that_lenient_cannot_skip(
    tmp_path: Path, content: bytes, rows: list[int | None], reason: str
) -> None:
    (tmp_path / "staff.csv").write_bytes(content)
    for lenient in (False, True):
        issues = errors_of(tmp_path, lenient=lenient)
        assert {i.code for i in issues} == {"undecodable"}
        assert [i.row for i in issues] == rows
        assert reason in issues[-1].message_zh


def test_an_unreadable_staff_file_is_not_also_a_missing_table(tmp_path: Path) -> None:
    (tmp_path / "staff.csv").write_bytes(GBK_STAFF + b"A2,\xff,x\n")
    (tmp_path / "公职人员.xlsx").write_bytes(b"")
    (issue,) = errors_of(tmp_path)  # discovery stops on the workbook before reading the CSV
    assert issue.code == "unreadable_workbook"
    (tmp_path / "公职人员.xlsx").unlink()
    assert [(i.code, i.table) for i in errors_of(tmp_path)] == [("undecodable", "staff")]


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("a,b\n1,2\n", False),  # no quote: no cell can span lines
        ('a,"b"\n1,2', False),
        ('a,"b"\r\n1,2\r\n', False),
        ('a,"b"\r1,2\r', False),  # lone carriage returns end lines too
        ('a,"b"\n1,2\n\n', False),  # a blank line is a row of its own
        ('a,b\n"x\ny",2\n', True),
        ('"a","b"\n"1\r\n2",3\r\n', True),
        ('"a","b"\n"1\r2",3\n', True),
    ],
)
def test_a_cell_may_hold_a_line_break_only_where_rows_and_lines_disagree(
    text: str, held: bool
) -> None:
    """The quick test before looking into every cell for a line break: the parser's rows
    against the text's lines."""
    frame = pd.read_csv(io.StringIO(text), **CELLS_AS_WRITTEN)
    assert may_hold_line_breaks(text, len(frame)) is held
    if not held:
        assert not frame.apply(lambda c: c.str.contains("\n", regex=False).any()).any()
