"""A restart makes the check index ready from stored state, never by running the rules
again: from the index file the screening kept (api.check.snapshot), or, where that file is
missing, written by other code or under another key, or changed, from the dataset and the
priors the screening's run record kept. Either way the index answers every check as the one
built at the end of the screening did."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.check import snapshot
from api.check.answer import answer
from api.check.models import CheckIn
from api.service import Service
from integrity.identity import calibration
from integrity.identity.calibration import PANEL
from integrity.load.dataset import load_dataset
from tests.api.conftest import make_settings, open_api
from tests.api.test_check_equals_batch import request_for
from tests.conftest import DEMO


@dataclass
class Screened:
    """One demo screening's stored state (kept pristine: each test works on a copy)."""

    var: Path
    db: Path
    screening_id: str
    bodies: list[CheckIn]
    before: list[dict[str, Any]]


def _answers(index: Any, bodies: list[CheckIn]) -> list[dict[str, Any]]:
    return [answer(index, b).model_dump(exclude={"elapsed_ms"}) for b in bodies]


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Screened:
    root = tmp_path_factory.mktemp("restart")
    demo = load_dataset(DEMO)
    pids = demo.tables["projects"]["project_id"].astype(str).tolist()[::9]
    bodies = [CheckIn.model_validate(b) for p in pids if (b := request_for(p, demo))]
    bodies.append(  # the README's check: a conflict
        CheckIn.model_validate(
            {
                "supplier": {"name": "深圳市润泽睿智体育用品有限公司"},
                "project": {"category": "货物类", "amount_wan": 20, "community": "象角塘社区"},
                "panel": [{"staff_id": "BT0234"}, {"name": "黎志斌"}],
            }
        )
    )
    url = f"sqlite:///{root / 't.db'}"
    for api in open_api(root / "var", url):
        done = api.wait(api.post("/demo").json()["screening"]["id"])
        assert done["status"] == "done"
        assert {"avoidance", "collusive_quotes", "split_bid"} <= set(done["run"]["priors"])
        # how crowded the demo's names are, as its calibration map was chosen (each drawn once)
        assert 0 < done["run"]["namesake_rate"] < calibration.NAMESAKE_GUESS
        assert api.service.index.panel_context == calibration.qualified(
            PANEL, done["run"]["namesake_rate"]
        )
        # how far the demo's relatives carry their family's region codes (the generator
        # registers most where the family comes from), as the index weighs a holder's code
        places = done["run"]["family_places"]
        assert 0.5 < places["share"] < 0.95 and places["relatives"] > 1000
        assert api.service.index.screening.family_places.share == places["share"]
        assert done["run"]["check_index_kept_seconds"] is not None
        before = _answers(api.service.index, bodies)
    assert sum(a["verdict"] == "conflict" for a in before) >= 1
    return Screened(root / "var", root / "t.db", done["id"], bodies, before)


def _restart(screened: Screened, tmp: Path, **overrides: Any) -> Service:
    """A fresh service on a copy of the stored state, its index made as at start-up."""
    var, db = tmp / "var", tmp / "t.db"
    shutil.copytree(screened.var, var)
    shutil.copy(screened.db, db)
    app = create_app(make_settings(var, f"sqlite:///{db}", **overrides), load_index=False)
    service: Service = app.state.service
    service.load_latest_index()
    assert service.index_error is None and service.index is not None
    assert service.index.screening_id == screened.screening_id
    return service


def _no_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the rules ran again")

    monkeypatch.setattr("integrity.scan.run_rules", refuse)


def _assert_warm(index: Any) -> None:
    """What a first check would otherwise build in each worker: the names by key (kept in
    the index file) and the lookups' hash tables (built where the index is swapped in)."""
    assert "_name_by_key" in vars(index.scr)
    assert index.commonness.index._engine.is_mapping_populated
    assert index.scr.link_index.frame.index._engine.is_mapping_populated


def test_the_screening_keeps_its_index_private(screened: Screened) -> None:
    files = sorted((screened.var / "check-index").iterdir())
    assert [f.name for f in files] == [f"{screened.screening_id}.pickle"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700


def test_restart_reads_the_kept_index(
    screened: Screened, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_rules(monkeypatch)
    monkeypatch.setattr("api.service.screening_for_check", _refuse_build)
    service = _restart(screened, tmp_path)
    assert service.index_source == "snapshot"
    _assert_warm(service.index)
    assert _answers(service.index, screened.bodies) == screened.before


def test_restart_without_the_file_rebuilds_without_the_rules(
    screened: Screened, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_rules(monkeypatch)
    shutil.copytree(screened.var, tmp_path / "pristine")
    shutil.rmtree(tmp_path / "pristine" / "check-index")
    service = _restart(
        Screened(tmp_path / "pristine", screened.db, screened.screening_id, [], []),
        tmp_path / "run",
    )
    assert service.index_source == "rebuilt"
    _assert_warm(service.index)
    assert _answers(service.index, screened.bodies) == screened.before
    # and kept for the next start
    assert snapshot.load(service.snapshot_dir, screened.screening_id, service.snapshot_key)


@pytest.mark.parametrize("how", ["changed", "truncated", "other key", "other code"])
def test_a_file_not_ours_is_never_read(
    how: str, screened: Screened, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_rules(monkeypatch)
    kept = screened.var / "check-index" / f"{screened.screening_id}.pickle"
    bad = tmp_path / "bad"
    shutil.copytree(screened.var, bad)
    target = bad / "check-index" / kept.name
    data = bytearray(kept.read_bytes())
    overrides: dict[str, Any] = {}
    if how == "changed":
        data[len(data) // 2] ^= 0x01
    elif how == "truncated":
        data = data[: len(data) // 3]
    elif how == "other key":
        overrides["token_secret"] = "another-secret"
    else:
        monkeypatch.setattr(snapshot, "code_fingerprint", lambda: "another version")
    target.write_bytes(bytes(data))

    def no_unpickling(*_: Any, **__: Any) -> Any:
        raise AssertionError("a file that is not ours was unpickled")

    monkeypatch.setattr(snapshot.pickle, "loads", no_unpickling)
    service = _restart(
        Screened(bad, screened.db, screened.screening_id, [], []), tmp_path / "run", **overrides
    )
    assert service.index_source == "rebuilt"
    _assert_warm(service.index)
    assert _answers(service.index, screened.bodies) == screened.before


def test_another_worker_reads_the_index_the_screening_kept(
    screened: Screened, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second worker (another process on the same data) never builds the index of a
    screening the first ran: it reads the file that one kept, when it next looks."""
    _no_rules(monkeypatch)
    monkeypatch.setattr("api.service.screening_for_check", _refuse_build)
    var, db = tmp_path / "var", tmp_path / "t.db"
    shutil.copytree(screened.var, var)
    shutil.copy(screened.db, db)
    app = create_app(make_settings(var, f"sqlite:///{db}"), load_index=False)
    worker: Service = app.state.service
    assert worker.index is None
    assert worker.refresh_index() is True
    assert worker.index_source == "snapshot" and worker.index is not None
    assert worker.index.screening_id == screened.screening_id
    assert worker.refresh_index() is False  # nothing newer
    assert _answers(worker.index, screened.bodies) == screened.before


def test_a_writer_gone_mid_write_leaves_nothing_behind(screened: Screened, tmp_path: Path) -> None:
    folder = tmp_path / "check-index"
    folder.mkdir()
    dead = folder / f"{screened.screening_id}.999999999.1.tmp"
    mine = folder / f"{screened.screening_id}.{os.getpid()}.1.tmp"
    dead.write_bytes(b"half an index")
    mine.write_bytes(b"being written")
    assert snapshot.sweep(folder) == [dead.name]
    assert not dead.exists() and mine.exists()


def _refuse_build(*_: Any, **__: Any) -> Any:
    raise AssertionError("the index was built again")
