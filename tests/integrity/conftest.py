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
