"""Plain JSON values from what pandas and numpy hand back (numpy scalars, timestamps, NaN)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """A value JSON (and PostgreSQL's json type) accepts: NaN and infinities become null."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return plain(float(value))
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if value is pd.NaT or (not isinstance(value, list | dict) and pd.isna(value)):
        return None
    return str(value)
