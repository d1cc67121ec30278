"""schemathesis against the OpenAPI schema, for every role: each operation with generated
requests (stateless), and chains of calls that follow the schema's links (stateful: an
upload's id to its dataset, a screening's id to its status and its cancellation, a page of
findings to one finding, its history and its triage, a token to its revocation). Every
answer must be no server error and conform to the contract: its status declared, its content
type and body as the schema says."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from api.app import create_app
from tests.api.conftest import COMMISSION_STREET, Api, make_settings

ROLES = ("admin", "auditor", "commission", "reviewer")
# the schema is read at collection time, so the app is made at import (an empty SQLite
# database in a scratch folder, removed when the process ends: every xdist worker imports
# this module, also one that runs none of its tests)
FOLDER = Path(tempfile.mkdtemp(prefix="integrity-schema-"))
atexit.register(shutil.rmtree, FOLDER, True)
APP = create_app(
    make_settings(FOLDER / "var", f"sqlite:///{FOLDER / 'schema.db'}"), load_index=False
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


class Tokens:
    """A valid token per role, issued again when a generated request revoked it."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def headers(self, role: str) -> dict[str, str]:
        store = self.api.service.tokens
        if store.principal(self.api.tokens[role]) is None:
            streets = [COMMISSION_STREET] if role == "commission" else []
            self.api.tokens[role] = store.issue(f"schema-{role}", role, streets)[0]
        return self.api.headers(role)


@pytest.fixture(scope="module")
def served() -> Iterator[Tokens]:
    store = APP.state.service.tokens
    tokens = {
        role: store.issue(
            f"schema-{role}", role, [COMMISSION_STREET] if role == "commission" else []
        )[0]
        for role in ROLES
    }
    try:
        with TestClient(APP) as client:
            api = Api(APP, client, tokens)
            done = api.wait(api.post("/demo").json()["screening"]["id"])
            assert done["status"] == "done"
            yield Tokens(api)
    finally:
        shutil.rmtree(FOLDER, ignore_errors=True)


# The test sends every request with a valid token of its role, so schemathesis' checks of
# requests without one (negative data in the Authorization header, ignored auth, a missing
# required header) would judge our injected token, not the service: they are left out here;
# tests/api/test_access.py and test_security.py try requests without a token.
WITHOUT_AUTH = [
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.missing_required_header,
]
# schema-valid requests these operations refuse for what the server holds, not for their
# shape: an upload's content (a random file is no dataset), a profile file's content, a
# street or profile no dataset names, a triage move the finding's status does not allow
STATEFUL_ACCEPTANCE = {
    "POST /datasets",
    "POST /policies",
    "POST /tokens",
    "POST /screenings",
    "POST /findings/{finding_id}/status",
}


def excluded(case: schemathesis.Case) -> list[Any]:
    label = f"{case.method.upper()} {case.path}"
    extra = [checks.positive_data_acceptance] if label in STATEFUL_ACCEPTANCE else []
    return WITHOUT_AUTH + extra


@schema.parametrize()
@SETTINGS
def test_every_operation_as_every_role(case: schemathesis.Case, served: Tokens) -> None:
    for role in ROLES:
        response = case.call(headers=served.headers(role))
        case.validate_response(response, excluded_checks=excluded(case))


@pytest.mark.parametrize("role", ROLES)
def test_linked_calls_as_every_role(served: Tokens, role: str) -> None:
    base: Any = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": served.headers(role)}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=excluded(case))

    Machine.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
