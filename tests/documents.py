"""What the document tests need from the system: Debian's pango (WeasyPrint lays the PDF out
with it) and poppler (pdftotext / pdftoppm read the PDF back). Outside CI a missing one skips
with its reason; under CI=true it fails (.ci/run installs them)."""

from __future__ import annotations

import ctypes.util
import os
import shutil

import pytest


def need_pdf_tools() -> None:
    missing = []
    if ctypes.util.find_library("pango-1.0") is None:
        missing.append("libpango-1.0-0 (WeasyPrint)")
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        missing.append("poppler-utils (pdftotext, pdftoppm)")
    if not missing:
        return
    reason = "NO PDF TOOLS: install " + ", ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
