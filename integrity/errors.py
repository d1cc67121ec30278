"""Input problems that name the file, row and column, in Chinese and English.

An :class:`InputIssue` is one problem with one cell (or one header, or one file). Errors stop a
run (or, with ``--lenient``, drop the row); warnings keep the row and are listed in run.json.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class InputIssue:
    """One problem in the input, located as precisely as the input allows."""

    level: Level
    code: str
    file: str
    message_zh: str
    message_en: str
    row: int | None = None  # spreadsheet row number: the header is row 1, first data row is 2
    column: str | None = None  # the header as the user wrote it
    field: str | None = None  # the contract's field name
    value: str | None = None
    table: str | None = None

    def location_zh(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column is not None:
            parts.append(f"「{self.column}」列")
        return " ".join(parts)

    def location_en(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            col = (
                self.column
                if self.field in (None, self.column)
                else f"{self.column} ({self.field})"
            )
            parts.append(f"column {col}")
        return ", ".join(parts)

    def render(self) -> str:
        return f"{self.location_zh()}：{self.message_zh}\n  {self.location_en()}: {self.message_en}"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class DatasetError(Exception):
    """The dataset cannot be screened as it stands; ``issues`` says where and why."""

    issues: list[InputIssue] = field(default_factory=list)

    def __str__(self) -> str:
        errors = [i for i in self.issues if i.level == "error"]
        shown = errors[:20]
        lines = [i.render() for i in shown]
        if len(errors) > len(shown):
            lines.append(
                f"……另有 {len(errors) - len(shown)} 个错误未列出 / "
                f"{len(errors) - len(shown)} more errors not shown"
            )
        return "\n".join(lines)


class PolicyError(Exception):
    """A policy profile is missing or malformed."""


class EngineError(Exception):
    """The engine asked for cannot run here (the Spark extra or a Java runtime missing)."""
