"""Resident ID numbers masked wherever they appear in what the service answers."""

from __future__ import annotations

import re
from typing import Any

# an 18-digit resident ID (birth date in the middle) or a 15-digit old one
_RIC = re.compile(
    r"(?<![0-9A-Za-z])(\d{4})(\d{2}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])\d{3})"
    r"([\dXx])(?![0-9A-Za-z])"
)
_RIC15 = re.compile(
    r"(?<![0-9A-Za-z])(\d{4})(\d{4}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]))(\d{3})(?![0-9A-Za-z])"
)


def _mask18(m: re.Match[str]) -> str:
    middle = m.group(2)  # 13 characters: keep the last 3 beside the check character
    return m.group(1) + "*" * (len(middle) - 3) + middle[-3:] + m.group(3)


def _mask15(m: re.Match[str]) -> str:
    return m.group(1) + "*" * len(m.group(2)) + m.group(3)


def mask_text(text: str) -> str:
    """4403xxxxxxxxxx123X -> 4403**********123X, wherever a resident ID number appears."""
    if len(text) < 15:
        return text
    return _RIC15.sub(_mask15, _RIC.sub(_mask18, text))


def mask(value: Any) -> Any:
    """Every resident ID number inside a JSON-like value masked (keys and values)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask(k): mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value
