"""The check index kept on disk, so that a restarted worker is ready in seconds.

Building a city's index means the screening's identity, roles and kinship stages and the
index's own tables (a minute on the 2-core machine). Once built — at the end of a screening,
or by the first worker after a restart — the index is written to
``<data_dir>/check-index/<screening id>.pickle``, and every later start (another worker, the
next restart) reads it instead of building it.

What is written is the index itself (pickle, protocol 5: the frames' arrays as buffers), so
it holds what the stored dataset holds, resident ID numbers included: the file is written
with mode 0600, atomically (a temporary file renamed: a reader never sees half of it), and
signed with a key derived from the service's secret. A file whose signature does not match
(written by anyone else, truncated, or changed) is never unpickled; nor is one written by
other code (the signature covers a fingerprint of the source of every package the index is
made of, the Python and library versions): the index is built again instead and the file
replaced. Only the latest screening's file is kept.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import io
import logging
import os
import pickle
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from api.files import alive

log = logging.getLogger("integrity.api")

ROOT = Path(__file__).resolve().parent.parent.parent
# the packages whose code the pickled objects are instances of, or were computed by
PACKAGES = ("integrity", "graph", "api")
SUFFIX = ".pickle"
MAGIC = b"integrity-check-index-1\n"
SIGNATURE_BYTES = 32


@cache
def code_fingerprint() -> str:
    """A hash of the source of every module of the packages, and the versions of Python,
    pandas and numpy: an index pickled by other code is not read back."""
    h = hashlib.sha256()
    for version in (sys.version, pd.__version__, np.__version__):
        h.update(version.encode())
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            h.update(path.relative_to(ROOT).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def signing_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"check-index-snapshot", hashlib.sha256).digest()


def path_for(folder: Path, screening_id: str) -> Path:
    return folder / f"{screening_id}{SUFFIX}"


def _signature(key: bytes, screening_id: str, body: bytes | memoryview) -> bytes:
    mac = hmac.new(key, digestmod=hashlib.blake2b)
    mac.update(code_fingerprint().encode())
    mac.update(screening_id.encode())
    mac.update(body)
    return mac.digest()[:SIGNATURE_BYTES]


def save(index: Any, folder: Path, key: bytes) -> Path:
    """Write ``index`` (its ``screening_id`` names the file) and remove the files of other
    screenings. Returns the file's path."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    buffer = io.BytesIO()
    pickle.dump(index, buffer, protocol=5)
    body = buffer.getbuffer()
    target = path_for(folder, index.screening_id)
    # a scratch file of this process's own: two workers may keep the same index at once
    scratch = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(MAGIC)
        fh.write(_signature(key, index.screening_id, body))
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(scratch, target)
    for other in folder.glob(f"*{SUFFIX}"):
        if other != target:
            other.unlink(missing_ok=True)
    return target


def load(folder: Path, screening_id: str, key: bytes) -> Any | None:
    """The index of ``screening_id`` as written by :func:`save` with this code and key, or
    None (no file, another code's, or a signature that does not match: logged)."""
    path = path_for(folder, screening_id)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    head = len(MAGIC) + SIGNATURE_BYTES
    view = memoryview(data)
    if data[: len(MAGIC)] != MAGIC or len(data) <= head:
        log.warning("check index file %s is not one this service wrote: ignored", path.name)
        return None
    expected = _signature(key, screening_id, view[head:])
    if not hmac.compare_digest(bytes(view[len(MAGIC) : head]), expected):
        # another code's file (after an upgrade) or a changed one: built again
        log.warning("check index file %s does not match this code or key: ignored", path.name)
        return None
    # millions of objects come back at once: the cyclic collector, run again and again
    # while they do, would find nothing to free (the service freezes them once swapped in)
    enabled = gc.isenabled()
    gc.disable()
    try:
        index = pickle.loads(view[head:])
    finally:
        if enabled:
            gc.enable()
    if getattr(index, "screening_id", None) != screening_id:
        return None
    return index


def sweep(folder: Path) -> list[str]:
    """Remove the scratch files of writers that are gone (a worker killed mid-write): they
    hold what the index holds. Returns their names."""
    removed = []
    for scratch in folder.glob("*.tmp") if folder.is_dir() else []:
        parts = scratch.name.split(".")
        pid = int(parts[1]) if len(parts) > 3 and parts[1].isdigit() else None
        if pid is not None and (pid == os.getpid() or alive(pid)):
            continue  # a writer at work: this process's own or another live one's
        scratch.unlink(missing_ok=True)
        removed.append(scratch.name)
    return removed
