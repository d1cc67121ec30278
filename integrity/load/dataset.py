"""Loading a dataset: a folder of CSV/XLSX files or one workbook, per data-contract.md.

The result is one typed pandas frame per table, indexed by spreadsheet row number, with the
contract's column names, ``_file`` and ``_row`` (so every finding can cite its source row),
``<id column>_valid`` beside every ID number and USCC, and every unknown column kept as written.
Errors stop the load with all of them listed; with ``lenient`` the rows that carry an error are
dropped instead and listed. Warnings (a failed check digit, an unknown role word, a reference
to an official who is not on the staff table) never drop a row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from integrity.errors import DatasetError, InputIssue
from integrity.load.readers import ReadError, sheet_names
from integrity.load.schema import (
    TABLES,
    Table,
    normalise_header,
    table_for_name,
)
from integrity.load.sources import load_sources
from integrity.load.table import Issues, Source, with_table

TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".parquet"}


@dataclass(frozen=True)
class SourceFile:
    """One input as run.json records it."""

    table: str
    file: str
    sha256: str
    rows: int
    encoding: str | None
    header_row: int
    columns: dict[str, str]  # header as written -> contract column, or "" for a kept extra

    def to_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "file": self.file,
            "sha256": self.sha256,
            "rows": self.rows,
            "encoding": self.encoding,
            "header_row": self.header_row,
            "columns": self.columns,
        }


@dataclass
class Dataset:
    root: str  # the dataset's name for display (its folder's or workbook's, or as given): no path
    tables: dict[str, pd.DataFrame]
    sources: list[SourceFile]
    issues: list[InputIssue] = field(default_factory=list)
    skipped_rows: dict[str, int] = field(default_factory=dict)
    ignored_files: list[str] = field(default_factory=list)
    warning_total: int = 0  # all warnings, including those not listed one by one

    def has(self, table: str) -> bool:
        return table in self.tables

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def warnings(self) -> list[InputIssue]:
        return [i for i in self.issues if i.level == "warning"]


# --------------------------------------------------------------------------- discovery


def _sheet_table(sheet: str) -> Table | None:
    name = sheet.strip()
    table = table_for_name(name)
    if table is None and "(" in normalise_header(name):
        # "项目台账(projects)" or "projects(项目台账)": either half names the table
        inner = normalise_header(name).replace(")", "").split("(")
        for part in inner:
            table = table_for_name(part)
            if table is not None:
                break
    return table


def _sources_in_file(file: Path, display: str) -> list[Source]:
    """The tables one file holds: a CSV or workbook named after a table, or sheets so named."""
    if file.name.startswith(("~$", ".")) or file.suffix.lower() not in TABLE_SUFFIXES:
        return []
    table = table_for_name(file.stem) or _sheet_table(file.stem)
    if file.suffix.lower() not in {".xlsx", ".xlsm"}:
        return [Source(table.name, file, None, display)] if table else []
    names = sheet_names(file, display)
    if table is not None:
        sheet = next((s for s in names if _sheet_table(s) is table), names[0])
        return [Source(table.name, file, sheet, f"{display}#{sheet}")]
    return [
        Source(t.name, file, sheet, f"{display}#{sheet}")
        for sheet in names
        if (t := _sheet_table(sheet)) is not None
    ]


def display_name_of(path: Path) -> str:
    """A dataset's own name: its folder's or workbook's, never the path to it."""
    return path.name or path.resolve().name or "数据集"


def discover(path: Path, display: str | None = None) -> tuple[list[Source], list[str]]:
    """The table sources in a dataset folder or workbook, and the files ignored.

    ``display`` names the dataset in an issue about it as a whole (default: its own name).
    A workbook that cannot be opened is an error: it may hold any of the tables.
    """
    if not path.exists():
        name = display or display_name_of(path)
        raise DatasetError(
            [InputIssue("error", "not_found", name, "数据集不存在", "dataset not found")]
        )
    files, root = ([path], path.parent) if path.is_file() else (sorted(path.iterdir()), path)
    sources: list[Source] = []
    ignored: list[str] = []
    problems: list[InputIssue] = []
    for file in files:
        try:
            found = _sources_in_file(file, str(file.relative_to(root))) if file.is_file() else []
        except ReadError as exc:
            table = table_for_name(file.stem) or _sheet_table(file.stem)
            problems.extend(with_table(exc.issues, table.name if table else None))
            continue
        sources.extend(found)
        if not found and file.is_file():
            ignored.append(str(file.relative_to(root)))
    seen: dict[str, Source] = {}
    for source in sources:
        if source.table in seen:
            problems.append(
                InputIssue(
                    "error",
                    "duplicate_table",
                    source.display,
                    f"表「{TABLES[source.table].zh_name}」已由 {seen[source.table].display} 提供，"
                    "同一张表只能有一个来源",
                    f"table {source.table} is already given by {seen[source.table].display}; "
                    "a table must come from one source",
                    table=source.table,
                )
            )
        seen[source.table] = source
    if problems:
        raise DatasetError(problems)
    return sources, ignored


# --------------------------------------------------------------------------- the dataset


def _cross_checks(tables: dict[str, pd.DataFrame], issues: Issues) -> None:
    """References between tables that do not resolve: warnings, the rows are kept."""
    refs = [
        (
            "relatives",
            "staff_id",
            "staff",
            "staff_id",
            "申报人不在公职人员表中",
            "declaring official is not in the staff table",
        ),
        (
            "participants",
            "staff_id",
            "staff",
            "staff_id",
            "人员编号不在公职人员表中",
            "staff_id is not in the staff table",
        ),
        (
            "participants",
            "project_id",
            "projects",
            "project_id",
            "项目编号不在项目台账中",
            "project_id is not in the projects table",
        ),
        (
            "quotes",
            "project_id",
            "projects",
            "project_id",
            "项目编号不在项目台账中",
            "project_id is not in the projects table",
        ),
    ]
    for table, col, target, target_col, zh, en in refs:
        if table not in tables or target not in tables or col not in tables[table].columns:
            continue
        frame = tables[table]
        known = set(tables[target][target_col].dropna())
        dangling = frame[col].notna() & ~frame[col].isin(known)
        for _, row in frame[dangling].iterrows():
            issues.add(
                InputIssue(
                    "warning",
                    f"unknown_{col}",
                    str(row["_file"]),
                    f"{zh}：“{row[col]}”",
                    f"{en}: '{row[col]}'",
                    row=int(row["_row"]),
                    column=col,
                    field=col,
                    value=str(row[col]),
                    table=table,
                )
            )


def load_dataset(
    path: str | Path, *, lenient: bool = False, display_name: str | None = None, jobs: int = 1
) -> Dataset:
    """Read, map, type and check every table of a dataset.

    Raises :class:`DatasetError` listing every problem that stops the load. With ``lenient``,
    rows with cell errors (or with bytes the file's encoding cannot decode) are dropped and
    listed instead; problems with a whole file or column (unreadable file, missing required
    column) still stop it. ``display_name`` names the dataset in issues about it as a whole
    and in ``Dataset.root`` (default: the folder's or workbook's own name, never its path).
    ``jobs`` 2: the files read in two processes (:mod:`integrity.load.sources`; the command
    line's scan), the same dataset.
    """
    root = Path(path)
    display = display_name or display_name_of(root)
    sources, ignored = discover(root, display)
    issues = Issues()
    tables: dict[str, pd.DataFrame] = {}
    records: list[SourceFile] = []
    fatal: list[InputIssue] = []
    skipped: dict[str, int] = defaultdict(int)
    for source, got in zip(sources, load_sources(sources, jobs), strict=True):
        issues.extend(got.issues)
        if got.frame is None or got.row_error is None:
            fatal.extend(got.fatal)
            continue
        frame, row_error = got.frame, got.row_error
        if lenient and row_error.any():
            skipped[source.table] = int(row_error.sum())
            frame = frame[~row_error]
        tables[source.table] = frame
        records.append(
            SourceFile(
                table=source.table,
                file=source.display,
                sha256=got.sha256,
                rows=len(frame),
                encoding=got.encoding,
                header_row=got.header_row,
                columns=got.header_map,
            )
        )
    if "staff" not in tables and not any(i.table == "staff" for i in fatal):
        fatal.append(
            InputIssue(
                "error",
                "missing_table",
                display,
                "缺少必备的「公职人员」表（staff.csv / 公职人员.xlsx 或同名工作表）",
                "the staff table is required (staff.csv, 公职人员.xlsx or a sheet so named)",
                table="staff",
            )
        )
    errors = [i for i in issues.items if i.level == "error"]
    if fatal or (errors and not lenient):
        raise DatasetError(fatal + errors + [s for s in issues.summaries() if s.level == "error"])
    _cross_checks(tables, issues)
    return Dataset(
        root=display,
        tables=tables,
        sources=records,
        issues=issues.items + issues.summaries(),
        skipped_rows=dict(skipped),
        ignored_files=ignored,
        warning_total=issues.total("warning"),
    )
