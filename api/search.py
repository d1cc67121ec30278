"""Text search over findings: one normalised, masked text per finding, matched literally.

A finding's searchable text is every string value in it (names, USCCs, project and staff
ids, explanation, evidence, clauses), NFKC-normalised and case-folded, with every resident ID
number masked — so a search can never be used to test the hidden digits of a number one at a
time. A query is normalised the same way and matched as a literal substring: ``%`` and ``_``
are escaped, never wildcards.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

from integrity.masking import mask_text

ESCAPE = "\\"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def normalise(text: str) -> str:
    """Full-width forms folded, case folded, ID numbers masked."""
    return mask_text(unicodedata.normalize("NFKC", text).casefold())


def search_text(data: dict[str, Any]) -> str:
    """What ``q`` is matched against: the finding's string values, one per line."""
    return normalise("\n".join(dict.fromkeys(_strings(data))))


def like_pattern(query: str) -> str:
    """A LIKE pattern matching ``query`` (normalised) literally anywhere in the text."""
    literal = normalise(query.strip())
    for ch in (ESCAPE, "%", "_"):
        literal = literal.replace(ch, ESCAPE + ch)
    return f"%{literal}%"
