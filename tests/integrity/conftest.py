"""Fixtures of the engine's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from integrity.errors import EngineError


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A Spark session in local mode; outside CI a machine without PySpark or Java skips the
    test, naming what is missing; under CI=true that is a failure."""
    from integrity.spark.session import spark_session  # noqa: PLC0415

    try:
        session = spark_session()
    except EngineError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must provide the Spark engine: {exc}")
        pytest.skip(f"THE SPARK ENGINE IS NOT TESTED HERE: {exc}")
    yield session


def identity_words(scored: Any, name: str) -> str:
    """The plain words (documents.words.plain_text) of the first scored pair's identity step,
    as a finding's evidence shows it: its confidence and reasons."""
    from integrity.documents.words import plain_text  # noqa: PLC0415

    step = {
        "kind": "identity",
        "text": f"身份比对：{name} 与登记的 {name} 疑似同一人",
        "data": {
            "confidence": float(scored.loc[0, "confidence"]),
            "reasons": scored.loc[0, "reasons"],
        },
    }
    return str(plain_text(step))
