"""related_supplier on the demo district: a notice about a supplier whose award the official
already decided on judges the identity link in that project, as avoidance does."""

from __future__ import annotations

import pytest

from integrity.findings import Finding
from integrity.scan import run_scan
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    return run_scan(DEMO, policy="longgang-2023", rules=["avoidance", "related_supplier"]).findings


def test_a_notice_on_a_decided_supplier_agrees_with_the_avoidance_finding(
    findings: list[Finding],
) -> None:
    avoidance = {(f.staff_ids[0], f.suppliers[0]): f for f in findings if f.rule == "avoidance"}
    decided = [
        f for f in findings if f.rule == "related_supplier" and f.details["decided_projects"]
    ]
    assert decided
    for notice in decided:
        twin = avoidance[(notice.staff_ids[0], notice.suppliers[0])]
        assert notice.details["decided_projects"] == twin.project_ids
        # the same identity link, the same confidence (never lower in the notice)
        assert notice.confidence >= twin.confidence
        assert "已参与该单位承接的项目" in notice.explanation
        shown = [e for e in notice.evidence if e.kind == "participation"]
        assert shown and all(e.source.table == "participants" for e in shown)


def test_a_name_only_in_law_who_won_the_officials_own_project_is_listed(
    findings: list[Finding],
) -> None:
    # BJ0174's wife's brother, named alike in the registry and the supplier table, no number
    # on the supplier side: across the whole roster 0.04, in the project BJ0174 reviewed 0.35
    notice = next(
        f
        for f in findings
        if f.rule == "related_supplier" and f.staff_ids == ["BJ0174"] and "王凯建" in f.explanation
    )
    assert notice.is_lead and notice.confidence > 0.25
    assert notice.details["decided_projects"] == ["LG2024-BJ-0507"]
