"""schemathesis against the OpenAPI schema: generated requests to every operation, as admin
and as a commission, must never meet a server error (a bounded number of examples each)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.app import create_app
from tests.api.conftest import Api, make_settings

# the schema is read at collection time, so the app is made at import (an empty SQLite
# database in a scratch folder); the fixture below fills it with the screened demo
FOLDER = Path(tempfile.mkdtemp(prefix="integrity-schema-"))
APP = create_app(
    make_settings(FOLDER / "var", f"sqlite:///{FOLDER / 'schema.db'}"), load_index=False
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def served() -> Iterator[Api]:
    store = APP.state.service.tokens
    tokens = {
        "admin": store.issue("管理员", "admin")[0],
        "commission": store.issue("坂田街道纪工委", "commission", ["坂田街道"])[0],
    }
    with TestClient(APP) as client:
        api = Api(APP, client, tokens)
        done = api.wait(api.post("/demo").json()["screening"]["id"])
        assert done["status"] == "done"
        yield api
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error(case: schemathesis.Case, served: Api) -> None:
    if case.path == "/demo" or (case.method == "DELETE" and case.path.startswith("/tokens")):
        # loading the demo again starts a screening; revoking tokens would lock the test out
        return
    for role in ("admin", "commission"):
        response = case.call(headers=served.headers(role))
        assert response.status_code < 500, (role, case.method, case.path, response.text[:500])
