"""Storage on both backends: migrations, append-only history, upserts, all-or-nothing uploads."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from api.db import make_engine, migrate
from api.models import AuditEntry, FindingEvent, FindingRecord, ScreeningFinding, now
from api.problems import Problem
from api.store import Limits, Upload, ingest, store_findings
from integrity.findings import EvidenceStep, Finding, SourceRef
from tests.conftest import DEMO

TABLES = {
    "api_tokens",
    "datasets",
    "screenings",
    "findings",
    "screening_findings",
    "finding_events",
    "audit_log",
    "alembic_version",
}


def _finding(fid: str, street: str = "坂田街道", confidence: float = 0.9) -> Finding:
    return Finding(
        finding_id=fid,
        rule="avoidance",
        severity="high",
        confidence=confidence,
        project_ids=["P1"],
        staff_ids=["S1"],
        suppliers=["91440300MA5XXXXX0X"],
        citation="深龙民规〔2023〕5号 第二十三条第（五）项",
        explanation="说明",
        evidence=[
            EvidenceStep("project", "项目台账：P1", SourceRef("projects.csv", 2, "projects"))
        ],
        street=street,
        policy="longgang-2023",
        details={"numpy_like": float("nan")},
    )


def _screening(engine, sid: str) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO datasets (id, name, sha256, path, files, rows, warnings, created_by,"
                " created_at) VALUES ('ds-1', 'd', :sha, 'p', '[]', 0, 0, 't', :at)"
                " ON CONFLICT DO NOTHING"
            ),
            {"sha": "0" * 64, "at": now()},
        )
        conn.execute(
            text(
                "INSERT INTO screenings (id, dataset_id, policy, status, progress, findings,"
                " created_by, created_at) VALUES (:id, 'ds-1', 'longgang-2023', 'running', '',"
                " 0, 't', :at)"
            ),
            {"id": sid, "at": now()},
        )


def test_migrations_create_every_table_and_run_twice(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # idempotent: a restart upgrades nothing
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_history_tables_refuse_update_and_delete(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    _screening(engine, "sc-1")
    store_findings(engine, "sc-1", [_finding("avoidance-1")], {"ok": True})
    with Session(engine) as session:
        session.add(
            FindingEvent(
                finding_id="avoidance-1",
                from_status="new",
                to_status="confirmed",
                reason="核实属实",
                actor="t",
                actor_role="admin",
                at=now(),
            )
        )
        session.add(AuditEntry(at=now(), actor="t", role="admin", method="GET", path="/x"))
        session.commit()
    for table in ("finding_events", "audit_log"):
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
    with Session(engine) as session:
        assert len(session.exec(select(FindingEvent)).all()) == 1
        assert len(session.exec(select(AuditEntry)).all()) == 1
    engine.dispose()


def test_rerun_upserts_findings_keeps_status_and_never_duplicates(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    _screening(engine, "sc-1")
    _screening(engine, "sc-2")
    store_findings(engine, "sc-1", [_finding("a-1"), _finding("a-2")], {})
    with Session(engine) as session:
        record = session.get(FindingRecord, "a-1")
        assert record is not None
        record.status = "confirmed"
        session.add(record)
        session.commit()
    store_findings(engine, "sc-2", [_finding("a-1", confidence=0.95), _finding("a-3")], {})
    with Session(engine) as session:
        rows = {r.finding_id: r for r in session.exec(select(FindingRecord)).all()}
        assert sorted(rows) == ["a-1", "a-2", "a-3"]
        assert rows["a-1"].status == "confirmed"  # triage survives the re-run
        assert rows["a-1"].confidence == 0.95
        assert rows["a-1"].first_screening_id == "sc-1"
        assert rows["a-1"].last_screening_id == "sc-2"
        assert rows["a-1"].data["details"]["numpy_like"] is None  # NaN stored as null
        links = session.exec(select(ScreeningFinding)).all()
        assert sorted((x.screening_id, x.finding_id) for x in links) == [
            ("sc-1", "a-1"),
            ("sc-1", "a-2"),
            ("sc-2", "a-1"),
            ("sc-2", "a-3"),
        ]
    engine.dispose()


def test_bad_upload_leaves_nothing_behind(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    staff = (DEMO / "公职人员.csv").read_bytes().decode("gbk").splitlines()
    # a birth date that is no date, in the third data row (spreadsheet row 4)
    cells = staff[3].split(",")
    cells[3] = "1990年13月45日"
    broken = [*staff[:3], ",".join(cells)]
    data = ("\n".join(broken) + "\n").encode("gbk")
    target = tmp_path / "datasets"
    with pytest.raises(Problem) as raised:
        ingest(
            engine,
            target,
            [Upload("公职人员.csv", io.BytesIO(data))],
            name="x",
            actor="t",
            limits=Limits.of(10**8),
        )
    problem = raised.value
    assert problem.status == 422
    errors = problem.extra["errors"]
    assert errors and errors[0]["file"] == "公职人员.csv"
    assert errors[0]["row"] == 4 and errors[0]["column"] == "出生日期"
    assert "无法识别的日期" in errors[0]["message_zh"] and "unparseable" in errors[0]["message_en"]
    assert list(target.iterdir()) == []  # no scratch folder, no dataset folder
    with Session(engine) as session:
        assert session.exec(text("SELECT count(*) FROM datasets")).one()[0] == 0  # type: ignore[call-overload]
    engine.dispose()


def _chain(
    fid: str, project: str, identity: float, rule: str = "avoidance", staff: str = "S1"
) -> Finding:
    details = {
        "identity_confidence": identity,
        "path": "张波龙 —堂弟→ 张军海 —负责人→ 深圳市润泽睿智体育用品有限公司",
    }
    return replace(
        _finding(fid), rule=rule, project_ids=[project], staff_ids=[staff], details=details
    )


def test_a_dismissed_namesake_is_remembered_at_the_next_screening(database_url: str) -> None:
    """A commission rules "not the same person" once: the same chain (official, the person
    matched by name, the organisation) in a new project or rule comes in dismissed, citing
    that decision; a chain an ID number decided, or another person's, comes in new."""
    engine = make_engine(database_url)
    migrate(engine)
    for sid in ("sc-1", "sc-2"):
        _screening(engine, sid)
    store_findings(engine, "sc-1", [_chain("a-1", "P1", 0.53)], {})
    with Session(engine) as session:
        record = session.get(FindingRecord, "a-1")
        assert record is not None
        record.status = "dismissed"
        session.add(record)
        session.add(
            FindingEvent(
                finding_id="a-1",
                from_status="new",
                to_status="dismissed",
                reason="经核实，登记的张军海与其堂弟并非同一人",
                actor="坂田街道纪工委",
                actor_role="commission",
                at=now(),
            )
        )
        session.commit()
    later = [
        _chain("a-2", "P2", 0.55),  # the same chain, another project
        _chain("r-1", "", 0.55, rule="related_supplier"),  # the same chain, another rule
        _chain("a-3", "P3", 1.0),  # the same names, but an ID number decided
    ]
    other = _chain("a-4", "P4", 0.6, staff="S2")
    store_findings(engine, "sc-2", [*later, other], {})
    with Session(engine) as session:
        status = {r.finding_id: r.status for r in session.exec(select(FindingRecord)).all()}
        assert status == {
            "a-1": "dismissed",
            "a-2": "dismissed",
            "r-1": "dismissed",
            "a-3": "new",
            "a-4": "new",
        }
        events = session.exec(select(FindingEvent).where(FindingEvent.finding_id == "a-2")).all()
        assert [e.reason for e in events] == [
            "沿用对 a-1 的排除决定：经核实，登记的张军海与其堂弟并非同一人"
        ]
    engine.dispose()
