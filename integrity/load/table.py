"""One table of a dataset: its headers mapped to the contract's columns, every cell coerced
to its type, every problem named by file, row and column (in Chinese and English), at most
``MAX_ISSUES_PER_KIND`` of a kind listed and the rest counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from integrity.errors import DatasetError, InputIssue, Level
from integrity.identity import ids
from integrity.load import coerce
from integrity.load.parquet import read_parquet
from integrity.load.readers import RawTable, column_lookup, read_csv, read_sheet
from integrity.load.schema import (
    PARTICIPANT_ROLES,
    SUPPLIER_ROLES,
    TABLES,
    Column,
    Table,
    normalise_header,
    split_unit,
)
from integrity.masking import mask_written


@dataclass(frozen=True)
class Source:
    """One table in one input file (a CSV file, or a sheet of a workbook)."""

    table: str
    path: Path
    sheet: str | None
    display: str


MAX_ISSUES_PER_KIND = 200


class Issues:
    """Collects issues, listing at most MAX_ISSUES_PER_KIND of a kind and counting the rest."""

    def __init__(self) -> None:
        self.items: list[InputIssue] = []
        self._counts: Counter[tuple[str, str, str | None, str]] = Counter()

    def add(self, issue: InputIssue) -> None:
        key = _kind(issue)
        self._counts[key] += 1
        if self._counts[key] <= MAX_ISSUES_PER_KIND:
            self.items.append(issue)

    def extend(self, other: Issues) -> None:
        """``other``'s issues after these, as if each had been added here in turn: its listed
        ones are the first of each kind it saw, so those still within the limit here are
        listed, and all are counted."""
        seen: Counter[tuple[str, str, str | None, str]] = Counter()
        for issue in other.items:
            key = _kind(issue)
            seen[key] += 1
            if self._counts[key] + seen[key] <= MAX_ISSUES_PER_KIND:
                self.items.append(issue)
        for key, n in other._counts.items():
            self._counts[key] += n

    def total(self, level: Level) -> int:
        return sum(n for (_, _, _, lvl), n in self._counts.items() if lvl == level)

    def summaries(self) -> list[InputIssue]:
        out = []
        for (file, code, column, level), n in self._counts.items():
            if n > MAX_ISSUES_PER_KIND:
                extra = n - MAX_ISSUES_PER_KIND
                out.append(
                    InputIssue(
                        level,  # type: ignore[arg-type]
                        code,
                        file,
                        f"同类问题另有 {extra} 处未逐条列出（共 {n} 处）",
                        f"{extra} more of the same not listed ({n} in all)",
                        column=column,
                    )
                )
        return out


def _kind(issue: InputIssue) -> tuple[str, str, str | None, str]:
    return (issue.file, issue.code, issue.column, issue.level)


_MESSAGES: dict[str, tuple[str, str]] = {
    "date": (
        "无法识别的日期 “{v}”（可用 2024-03-05、2024/3/5、2024年3月5日 或 Excel 日期）",
        "unparseable date '{v}' (use 2024-03-05, 2024/3/5, 2024年3月5日 or an Excel date)",
    ),
    "amount": ("金额不是有效的非负数字 “{v}”", "amount is not a non-negative number: '{v}'"),
    "count": ("不是非负整数 “{v}”", "not a non-negative whole number: '{v}'"),
    "percent": ("持股比例应为 0–100 或 “35%” 形式：“{v}”", "share must be 0-100 or '35%': '{v}'"),
    "bool": ("无法识别的是/否值 “{v}”（可用 是/否、1/0、true/false）", "not a yes/no value: '{v}'"),
    "category": (
        "未知的项目类别 “{v}”（应为 工程类、服务类 或 货物类）",
        "unknown category '{v}' (expected 工程类, 服务类 or 货物类)",
    ),
    "gender": ("无法识别的性别 “{v}”（应为 男 或 女）", "unknown gender '{v}' (expected 男 or 女)"),
    "phone": (
        "电话号码格式异常 “{v}”，按原文保留",
        "phone number looks wrong, kept as written: '{v}'",
    ),
    "kin_term": (
        "未知的亲属称谓 “{v}”（如 配偶、父亲、哥哥、岳父、舅舅、堂妹、外甥、儿媳，或 老婆的哥哥）",
        "unknown kin term '{v}' (e.g. 配偶, 父亲, 哥哥, 岳父, 舅舅, 堂妹, 外甥, 儿媳, 老婆的哥哥)",
    ),
}


_ID_WHAT = {"id_number": ("身份证号", "ID number"), "uscc": ("统一社会信用代码", "USCC")}


_ID_PROBLEMS: dict[str, tuple[str, str]] = {
    "format": ("位数或字符不符", "wrong length or characters"),
    "checksum": ("校验位不符", "check digit does not match"),
    "birth_date": ("出生日期无效", "invalid birth date"),
    "region": ("地址码（省份）无效", "invalid region code"),
}


def _map_headers(
    raw: RawTable, table: Table, display: str
) -> tuple[dict[str, tuple[int, str, float]], dict[str, int], list[InputIssue]]:
    lookup = column_lookup(table)
    mapped: dict[str, tuple[int, str, float]] = {}
    extras: dict[str, int] = {}
    problems: list[InputIssue] = []
    for pos, header in enumerate(raw.headers):
        key = normalise_header(header)
        base, scale = split_unit(key)
        name = lookup.get(base)
        if name is not None and scale != 1.0 and table.column(name).kind != "amount":
            name = None
        if name is None:
            name, scale = lookup.get(key), 1.0
        if name is None:
            extras[header] = pos
            continue
        if name in mapped and not table.column(name).required:
            # an optional field written twice (备注 and 说明): the first is read, the other
            # kept as a column of its own, and the user told
            first = mapped[name][1]
            extras[header] = pos
            problems.append(
                InputIssue(
                    "warning",
                    "duplicate_optional_column",
                    display,
                    f"「{header}」与「{first}」都可对应字段 {name}：读取「{first}」，"
                    f"「{header}」作为其他列保留",
                    f"columns {header!r} and {first!r} both name {name}: {first!r} is read, "
                    f"{header!r} kept as an extra column",
                    row=raw.header_row,
                    column=header,
                    field=name,
                    table=table.name,
                )
            )
            continue
        if name in mapped:
            first = mapped[name][1]
            problems.append(
                InputIssue(
                    "error",
                    "duplicate_column",
                    display,
                    f"「{header}」与「{first}」都对应字段 {name}，请只保留一列",
                    f"columns {header!r} and {first!r} both map to {name}; keep one",
                    row=raw.header_row,
                    column=header,
                    field=name,
                    table=table.name,
                )
            )
            continue
        mapped[name] = (pos, header, scale)
    for column in table.columns:
        if column.required and column.name not in mapped:
            aliases = "、".join(column.aliases) or column.name
            problems.append(
                InputIssue(
                    "error",
                    "missing_column",
                    display,
                    f"缺少必填列「{aliases}」（{column.name}）",
                    f"required column {column.name} ({aliases}) is missing",
                    row=raw.header_row,
                    column=aliases.split("、")[0],
                    field=column.name,
                    table=table.name,
                )
            )
    for group in table.one_of:
        if not any(g in mapped for g in group):
            names = " / ".join(group)
            problems.append(
                InputIssue(
                    "error",
                    "missing_column",
                    display,
                    f"至少需要以下列之一：{names}",
                    f"at least one of these columns is required: {names}",
                    row=raw.header_row,
                    column=names,
                    table=table.name,
                )
            )
    return mapped, extras, problems


def _coerce_column(
    column: Column, text: pd.Series, scale: float
) -> tuple[dict[str, pd.Series], pd.Series, pd.Series | None]:
    """Typed output columns, the mask of unreadable cells, and ID problems (if an ID kind)."""
    if column.kind in ("id_number", "uscc"):
        checked = (
            ids.normalise_ric(text) if column.kind == "id_number" else ids.normalise_uscc(text)
        )
        outputs: dict[str, pd.Series] = {
            column.name: checked["value"].astype("string"),
            f"{column.name}_valid": checked["valid"].astype(bool),
        }
        return outputs, pd.Series(False, index=text.index), checked["problem"]
    if column.kind == "amount":
        result = coerce.to_amount(text, scale)
    else:
        result = coerce.SIMPLE_COERCERS[column.kind](text)
    return {column.name: result.values}, result.bad, None


class TableLoader:
    """Types one table's cells, recording each problem against its row and column."""

    def __init__(self, source: Source, raw: RawTable, issues: Issues) -> None:
        self.source = source
        self.raw = raw
        self.issues = issues
        self.table = TABLES[source.table]
        mapped, self.extras, problems = _map_headers(raw, self.table, source.display)
        errors = [p for p in problems if p.level == "error"]
        if errors:
            raise DatasetError(errors)
        for problem in problems:  # the warnings: an optional field written twice
            issues.add(problem)
        self.mapped = mapped
        frame = raw.frame
        self.out = pd.DataFrame(index=frame.index)
        self.out["_file"] = source.display
        self.out["_row"] = frame.index.to_numpy()
        # a row with bytes its file's encoding cannot decode is one error, listed by the reader;
        # its cells (with U+FFFD for those bytes) are not checked one by one
        self.undecodable = pd.Series(
            frame.index.isin(list(raw.undecodable_rows)), index=frame.index
        )
        for issue in raw.row_issues:
            issues.add(issue)
        self.row_error = self.undecodable.copy()

    def secret(self, field: str) -> bool:
        """A resident ID number's field: its values are masked wherever an issue names them."""
        column = self.table.column(field) if field in self.mapped else None
        return column is not None and column.kind == "id_number"

    def report(
        self,
        mask: pd.Series,
        values: pd.Series | None,
        *,
        level: Level,
        code: str,
        header: str,
        field: str,
        zh: str,
        en: str,
        extra: pd.Series | None = None,
    ) -> None:
        """One issue per row in ``mask``; ``{v}`` in the messages is that row's value and
        ``{x}`` the row's value in ``extra``."""
        mask = mask & ~self.undecodable
        for row in mask[mask].index:
            v = None if values is None or pd.isna(values[row]) else str(values[row])
            if v is not None and self.secret(field):  # name the cell, never the number
                v = mask_written(v)
            x = None if extra is None else extra[row]
            self.issues.add(
                InputIssue(
                    level,
                    code,
                    self.source.display,
                    zh.format(v=v, x=x),
                    en.format(v=v, x=x),
                    row=int(row),
                    column=header,
                    field=field,
                    value=v,
                    table=self.table.name,
                )
            )
        if level == "error":
            self.row_error |= mask

    def coerce_column(self, column: Column) -> None:
        pos, header, scale = self.mapped[column.name]
        text = coerce.column_text(self.raw.frame[pos])
        outputs, bad, id_problems = _coerce_column(column, text, scale)
        for name, values in outputs.items():
            self.out[name] = values
        if column.kind in _MESSAGES:
            zh, en = _MESSAGES[column.kind]
            level: Level = "warning" if column.kind == "phone" else "error"
            self.report(
                bad,
                text,
                level=level,
                code=f"bad_{column.kind}",
                header=header,
                field=column.name,
                zh=zh,
                en=en,
            )
        if id_problems is not None:
            what_zh, what_en = _ID_WHAT[column.kind]
            for problem, (pzh, pen) in _ID_PROBLEMS.items():
                self.report(
                    id_problems == problem,
                    text,
                    level="warning",
                    code=f"{column.kind}_{problem}",
                    header=header,
                    field=column.name,
                    zh=f"{what_zh} “{{v}}” {pzh}：保留原文，但不作为身份依据",
                    en=f"{what_en} '{{v}}': {pen}; kept as written but not used as an identity key",
                )
        if column.required:
            self.report(
                text.isna(),
                None,
                level="error",
                code="required_empty",
                header=header,
                field=column.name,
                zh="必填项为空",
                en="required value is empty",
            )

    def check_one_of(self, group: tuple[str, ...]) -> None:
        present = [g for g in group if g in self.out.columns]
        empty = pd.concat([self.out[g].isna() for g in present], axis=1).all(axis=1)
        names = " / ".join(self.mapped[g][1] for g in present)
        self.report(
            empty,
            None,
            level="error",
            code="required_empty",
            header=names,
            field=" / ".join(present),
            zh=f"{names} 至少填写一项",
            en=f"fill in at least one of {names}",
        )

    def check_unique(self, key: str) -> None:
        values = self.out[key].where(~self.row_error)
        dup = values.notna() & values.duplicated(keep="first")
        header = self.mapped[key][1]
        firsts = values[values.notna()].drop_duplicates(keep="first")
        first_row = values.map(pd.Series(firsts.index, index=firsts.to_numpy())).astype("Int64")
        self.report(
            dup,
            values,
            level="error",
            code="duplicate_key",
            header=header,
            field=key,
            zh=f"“{{v}}” 与第{{x}}行重复，{header}必须唯一",
            en=f"'{{v}}' repeats row {{x}}; {key} must be unique",
            extra=first_row,
        )

    def normalise_roles(self) -> None:
        roles = {"supplier_people": SUPPLIER_ROLES, "participants": PARTICIPANT_ROLES}.get(
            self.table.name
        )
        if roles is None or "role" not in self.out.columns:
            return
        written = self.out["role"]
        canonical = written.str.replace(r"\s", "", regex=True).map(roles, na_action="ignore")
        known = "、".join(sorted(set(roles.values())))
        self.report(
            written.notna() & canonical.isna(),
            written,
            level="warning",
            code="unknown_role",
            header=self.mapped["role"][1],
            field="role",
            zh=f"未知角色 “{{v}}”，按原文保留；可用：{known}",
            en="unknown role '{v}', kept as written",
        )
        self.out["role_written"] = written
        self.out["role"] = canonical.fillna(written).astype("string")

    def load(self) -> tuple[pd.DataFrame, pd.Series, dict[str, str]]:
        """The typed frame, the mask of rows with an error, and the header map."""
        for column in self.table.columns:
            if column.name in self.mapped:
                self.coerce_column(column)
        for group in self.table.one_of:
            self.check_one_of(group)
        self.normalise_roles()
        for header, pos in self.extras.items():
            if header not in self.out.columns:
                self.out[header] = coerce.column_text(self.raw.frame[pos])
        for key in self.table.unique:
            if key in self.out.columns:
                self.check_unique(key)
        mapped = {h: n for n, (_, h, _) in self.mapped.items()}
        header_map = dict.fromkeys(self.raw.headers, "") | mapped
        return self.out, self.row_error, header_map


def read_source(source: Source) -> tuple[RawTable, str | None]:
    table = TABLES[source.table]
    if source.path.suffix.lower() == ".parquet":
        return read_parquet(source.path, source.display, table), None
    if source.sheet is None:
        return read_csv(source.path, source.display, table)
    return read_sheet(source.path, source.sheet, table, source.display), None


def with_table(issues: list[InputIssue], table: str | None) -> list[InputIssue]:
    return [i if i.table is not None else replace(i, table=table) for i in issues]
