"""The service under test: an app on a clean database (SQLite, or a fresh PostgreSQL database
created for the test and dropped after), tokens for every role, and a screened demo district.

PostgreSQL is the one on this machine (127.0.0.1:5432, trust auth); `.ci/run` starts it if it
is down. Under CI (CI=true) a missing PostgreSQL fails the storage tests instead of skipping.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.settings import Settings

PG_SERVER = os.environ.get("INTEGRITY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COMMISSION_STREET = "坂田街道"
OTHER_STREET = "龙城街道"


def _pg_up() -> bool:
    try:
        engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_up()


def _pg_database(pg_available: bool) -> Iterator[str]:
    if not pg_available:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER} (CI must start it)")
        pytest.skip(f"PostgreSQL is not reachable at {PG_SERVER}")
    name = f"itest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_available: bool
) -> Iterator[str]:
    """A clean database for one test, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    yield from _pg_database(pg_available)


def make_settings(data_dir: Path, url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"token_secret": "test-secret", "workers": 1} | overrides
    return Settings(data_dir=data_dir, database_url=url, **values)


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(role), **kw)

    def post(self, path: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers(role), **kw)

    @property
    def service(self) -> Any:
        return self.app.state.service

    def wait(self, screening_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body: dict[str, Any] = self.get(f"/screenings/{screening_id}").json()
            if body["status"] in ("done", "failed", "cancelled"):
                return body
            time.sleep(0.1)
        raise AssertionError(f"screening {screening_id} did not finish in {timeout} s")


def open_api(data_dir: Path, url: str, **overrides: Any) -> Iterator[Api]:
    app = create_app(make_settings(data_dir, url, **overrides), load_index=False)
    store = app.state.service.tokens
    tokens = {
        "admin": store.issue("管理员", "admin")[0],
        "auditor": store.issue("区审计局", "auditor")[0],
        "reviewer": store.issue("评审专家", "reviewer")[0],
        "commission": store.issue("坂田街道纪工委", "commission", [COMMISSION_STREET])[0],
        "other_commission": store.issue("龙城街道纪工委", "commission", [OTHER_STREET])[0],
    }
    with TestClient(app) as client:
        yield Api(app, client, tokens)


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[Api]:
    """A fresh service on a clean database, on each backend."""
    yield from open_api(tmp_path / "var", database_url)


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One service (SQLite) with the demo district screened, shared by read-mostly tests."""
    folder = tmp_path_factory.mktemp("screened")
    for api_ in open_api(folder / "var", f"sqlite:///{folder / 'test.db'}"):
        demo = api_.post("/demo").json()
        done = api_.wait(demo["screening"]["id"])
        assert done["status"] == "done", done
        yield api_
