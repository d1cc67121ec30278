"""Resident ID numbers masked wherever they leave the core for someone who is not admin.

One pattern, three forms: a text (:func:`mask_text`, also every log line: :mod:`api.logs`), a
JSON-like value (:func:`mask`: every JSON answer, :mod:`api.routing`; the command line's
output files, :mod:`integrity.documents.output`), and a cell's value as written
(:func:`mask_written`: the loader's messages about an ID-number cell, whatever it holds). A
masked number keeps its first four and last four characters (``4403**********123X``): enough
to tell two numbers apart on a referral, not enough to rebuild one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import unquote

# an 18-digit resident ID (birth date in the middle: 1880-2099, as the loader accepts) or a
# 15-digit old one
_RIC18 = (
    r"(?<![0-9A-Za-z])(\d{4})(\d{2}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])\d{3})"
    r"([\dXx])(?![0-9A-Za-z])"
)
_RIC15 = r"(?<![0-9A-Za-z])(\d{4})(\d{4}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]))(\d{3})(?![0-9A-Za-z])"
_RIC = re.compile(_RIC18)
_RIC_OLD = re.compile(_RIC15)
SHORTEST = 15  # nothing shorter can hold a number


def _mask18(m: re.Match[str]) -> str:
    middle = m.group(2)  # 13 characters: keep the last 3 beside the check character
    return m.group(1) + "*" * (len(middle) - 3) + middle[-3:] + m.group(3)


def _mask15(m: re.Match[str]) -> str:
    return m.group(1) + "*" * len(m.group(2)) + m.group(3)


def _mask_plain(text: str) -> str:
    return _RIC_OLD.sub(_mask15, _RIC.sub(_mask18, text))


def mask_text(text: str) -> str:
    """4403xxxxxxxxxx123X -> 4403**********123X, wherever a resident ID number appears,
    written in full-width digits too (then the text is given back in its NFKC form) or
    percent-encoded in a URL (then given back decoded)."""
    if len(text) < SHORTEST:
        return text
    masked = _mask_plain(text)
    for variant in _variants(text):
        hidden = _mask_plain(variant)
        if hidden != variant:  # a number only this spelling showed: the masked spelling
            return hidden if masked == text else _mask_plain(_variants(masked)[-1])
    return masked


def _variants(text: str) -> list[str]:
    """The other spellings a number may hide behind: NFKC (full-width digits), and a URL's
    percent-encoding undone."""
    out = []
    folded = unicodedata.normalize("NFKC", text)
    if folded != text:
        out.append(folded)
    if "%" in text:
        decoded = unicodedata.normalize("NFKC", unquote(text))
        if decoded != text and decoded not in out:
            out.append(decoded)
    return out


# any decimal digits, as the number's own pattern reads them (``\d``: a number whose free
# positions are written in another script's digits is masked, so it must not pass here)
_DIGITS = re.compile(r"\d{15}")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")  # a URL's encoding (not 把握约65%)
# text NFKC leaves without a new digit: ASCII, CJK punctuation (U+3000-303F), the unified
# ideographs, the punctuation of Chinese prose and the arrows of a path (not the full-width
# digits U+FF10-FF19, nor any other block where a digit form could hide)
_PLAIN = re.compile(
    "[\x00-\x7f\u3000-\u303f\u4e00-\u9fff\uff01\uff08\uff09\uff0c\uff1a\uff1b"
    "\uff1f\u2018\u2019\u201c\u201d\u2014\u2026\u00b7\u2192]*"
)


def could_hold_id(serialised: str) -> bool:
    """Whether a serialised value (JSON text) could hold a resident ID number anywhere in its
    strings, keys included: False only where :func:`mask` of the parsed value is certain to
    change nothing — no fifteen digits in a row in the text's NFKC form (full-width and other
    digit forms folded), no percent-encoding (``%34``) and no ``\\u`` escape (a digit
    written as one). A quick test before the parse and the walk, which most answers do not
    need."""
    if "\\u" in serialised or _PERCENT.search(serialised):
        return True
    if _DIGITS.search(serialised):
        return True
    if _PLAIN.fullmatch(serialised):
        return False  # no character NFKC would turn into a digit
    return _DIGITS.search(unicodedata.normalize("NFKC", serialised)) is not None


def mask(value: Any) -> Any:
    """Every resident ID number inside a JSON-like value masked (keys and values)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask(k): mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


def mask_written(value: str) -> str:
    """An ID-number cell's value as written, masked for a message about it: its first four
    and last four characters kept (``4403**********123X``), the rest starred, whatever its
    length or validity (a number with a wrong check digit is still somebody's). Shorter than
    twelve characters: only the last two kept."""
    text = value.strip()
    keep_head, keep_tail = (4, 4) if len(text) >= 12 else (0, 2)
    hidden = len(text) - keep_head - keep_tail
    if hidden <= 0:
        return "*" * len(text)
    return text[:keep_head] + "*" * hidden + text[len(text) - keep_tail :]
