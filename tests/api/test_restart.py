"""A restart rebuilds the check index from stored state: the dataset and the priors the
screening's run record kept, without running the rules again; and the rebuilt index answers
every check as the one built at the end of the screening did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.check.answer import answer
from api.check.models import CheckIn
from integrity.load.dataset import load_dataset
from tests.api.conftest import make_settings, open_api
from tests.api.test_check_equals_batch import request_for
from tests.conftest import DEMO


def _answers(index: Any, bodies: list[CheckIn]) -> list[dict[str, Any]]:
    return [answer(index, b).model_dump(exclude={"elapsed_ms"}) for b in bodies]


def test_restart_rebuilds_the_index_without_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    url = f"sqlite:///{tmp_path / 't.db'}"
    for api in open_api(tmp_path / "var", url):
        done = api.wait(api.post("/demo").json()["screening"]["id"])
        assert done["status"] == "done"
        priors = done["run"]["priors"]
        assert {"avoidance", "collusive_quotes", "split_bid"} <= set(priors)
        before = _answers(api.service.index, bodies)

    def no_rules(*_: Any, **__: Any) -> Any:
        raise AssertionError("the rules ran again")

    monkeypatch.setattr("integrity.scan.run_rules", no_rules)
    app = create_app(make_settings(tmp_path / "var", url), load_index=False)
    service = app.state.service
    service.load_latest_index()
    assert service.index_error is None and service.index is not None
    assert service.index.screening_id == done["id"]
    assert _answers(service.index, bodies) == before
    assert sum(a["verdict"] == "conflict" for a in before) >= 1
