"""quotes_process on one project's quotes, as records (the rule reads them so since it stopped
filtering a frame per project)."""

from __future__ import annotations

from typing import Any

from integrity.rules.quotes_process import _problems, _quote_step


def _quote(name: str | None, core: str | None, amount: float, selected: Any, row: int) -> dict:
    return {
        "supplier_name": name,
        "_uscc": None,
        "_name": core,
        "amount": amount,
        "selected": selected,
        "_file": "询价比价记录.csv",
        "_row": row,
    }


def test_a_quote_without_a_supplier_name_is_named_as_such_never_none() -> None:
    project = {"project_id": "P1", "supplier_name": "甲公司", "_uscc": None, "_name": "甲"}
    quotes = [
        _quote("甲公司", "甲", 100.0, False, 2),
        _quote(None, None, 90.0, True, 3),  # a row --lenient kept without its name
        _quote("乙公司", "乙", 95.0, float("nan"), 4),
    ]
    said = {check: text for _, check, text, _ in _problems(project, quotes, 3)}
    assert set(said) == {"few_quotes", "selected_other", "not_lowest"}
    assert "（未注明单位）" in said["selected_other"] and "（未注明单位）" in said["not_lowest"]
    assert not any("None" in t or "nan" in t or "<NA>" in t for t in said.values())
    assert "（未注明单位）" in _quote_step(quotes[1]).text


def test_the_winner_marked_and_lowest_is_no_finding() -> None:
    project = {"project_id": "P1", "supplier_name": "甲公司", "_uscc": None, "_name": "甲"}
    quotes = [
        _quote("甲公司", "甲", 90.0, 1, 2),  # 1 marks the selected row, as True does
        _quote("乙公司", "乙", 95.0, None, 3),
        _quote("丙公司", "丙", 99.0, False, 4),
    ]
    assert list(_problems(project, quotes, 3)) == []
