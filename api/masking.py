"""Resident ID numbers masked wherever they leave the service for someone who is not admin.

One set of patterns, three forms: a text (:func:`mask_text`), a JSON-like value (:func:`mask`),
and the bytes of a serialised answer (:func:`mask_bytes`, used by :mod:`api.routing` on every
JSON response and by :mod:`api.logs` on every log line). A masked number keeps its first four
and last four characters (``4403**********123X``): enough to tell two numbers apart on a
referral, not enough to rebuild one.
"""

from __future__ import annotations

import re
from typing import Any

# an 18-digit resident ID (birth date in the middle) or a 15-digit old one
_RIC18 = (
    r"(?<![0-9A-Za-z])(\d{4})(\d{2}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])\d{3})"
    r"([\dXx])(?![0-9A-Za-z])"
)
_RIC15 = r"(?<![0-9A-Za-z])(\d{4})(\d{4}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]))(\d{3})(?![0-9A-Za-z])"
_RIC = re.compile(_RIC18)
_RIC_OLD = re.compile(_RIC15)
_RIC_BYTES = re.compile(_RIC18.encode())
_RIC_OLD_BYTES = re.compile(_RIC15.encode())
SHORTEST = 15  # nothing shorter can hold a number


def _mask18(m: re.Match[str]) -> str:
    middle = m.group(2)  # 13 characters: keep the last 3 beside the check character
    return m.group(1) + "*" * (len(middle) - 3) + middle[-3:] + m.group(3)


def _mask15(m: re.Match[str]) -> str:
    return m.group(1) + "*" * len(m.group(2)) + m.group(3)


def _mask18b(m: re.Match[bytes]) -> bytes:
    middle = m.group(2)
    return m.group(1) + b"*" * (len(middle) - 3) + middle[-3:] + m.group(3)


def _mask15b(m: re.Match[bytes]) -> bytes:
    return m.group(1) + b"*" * len(m.group(2)) + m.group(3)


def mask_text(text: str) -> str:
    """4403xxxxxxxxxx123X -> 4403**********123X, wherever a resident ID number appears."""
    if len(text) < SHORTEST:
        return text
    return _RIC_OLD.sub(_mask15, _RIC.sub(_mask18, text))


def mask_bytes(data: bytes) -> bytes:
    """The same on serialised bytes (UTF-8 JSON: digits are never escaped there)."""
    if len(data) < SHORTEST:
        return data
    return _RIC_OLD_BYTES.sub(_mask15b, _RIC_BYTES.sub(_mask18b, data))


def mask(value: Any) -> Any:
    """Every resident ID number inside a JSON-like value masked (keys and values)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask(k): mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value
