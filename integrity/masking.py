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
    if len(text) < SHORTEST or not could_hold_id(text):
        return text
    masked = _mask_plain(text)
    for variant in _variants(text):
        hidden = _mask_plain(variant)
        if hidden != variant:  # a number only this spelling showed: the masked spelling
            if masked == text:
                return hidden
            # masked already, and no other spelling left (a digit \d reads in another
            # script, masked with the rest): nothing more to hide
            again = _variants(masked)
            return _mask_plain(again[-1]) if again else masked
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
# the characters that are no digit themselves but whose NFKC form holds one (², ½, ①, ⑴, ⒈,
# ㉑, ㍘, 🄁 …: Unicode 14's, as tests/api/test_access.py recomputes them): a text without
# them gains no digit from NFKC, which maps every character to at least one and keeps a
# digit one digit
_DIGIT_FORMS = re.compile(
    "[\u00b2\u00b3\u00b9\u00bc-\u00be\u2070\u2074-\u2079\u2080-\u2089\u2150-\u215f"
    "\u2189\u2460-\u249b\u24ea\u3251-\u325f\u32b1-\u32cb\u3358-\u3370\u3378\u3379"
    "\u339f-\u33a6\u33a8\u33af\u33e0-\u33fe\U0001f100-\U0001f10a]"
)


def could_hold_id(serialised: str) -> bool:
    """Whether a text (a serialised value's JSON text, or one string) could hold a resident ID
    number: False only where :func:`mask` of the parsed value (or :func:`mask_text` of the
    string) is certain to change nothing — no fifteen digits in a row (any script's), no
    character NFKC would turn into a digit (full-width digits are digits already), no
    percent-encoding (``%34``) and no ``\\u`` escape (a digit written as one). A quick test
    before the parse and the walk, which most answers and findings do not need."""
    if "\\u" in serialised or _PERCENT.search(serialised):
        return True
    return _DIGITS.search(serialised) is not None or _DIGIT_FORMS.search(serialised) is not None


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
