"""The service's files: private to the account it runs as, and no scratch left behind.

Everything under the data folder holds personal data (uploaded ledgers with ID numbers, the
database, the token secret), so folders are made 0700 and files 0600 whatever the process's
umask, and folders made before are tightened at start-up. An upload is unpacked into a
scratch folder named after the process that owns it (``.incoming-<pid>-<random>``); a
scratch folder whose process is gone (a crash, a kill) is removed at the next start-up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SCRATCH_PREFIX = ".incoming-"
# a scratch folder this old is removed even if its process id is alive again (reused)
SCRATCH_MAX_AGE_SECONDS = 24 * 3600


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can enter (made with its parents if missing)."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with contextlib.suppress(PermissionError):  # a folder of another owner: left as it is
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it is missing, tighten it if it is not."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        os.close(fd)
    with contextlib.suppress(PermissionError):
        os.chmod(path, FILE_MODE)
    return path


# what the service writes in its data folder: only these are tightened (a data folder given
# as ``.`` must not have its neighbours' modes changed)
OWN_FOLDERS = ("datasets", "policies", "locks")
OWN_FILE_PREFIXES = ("integrity.db", "token-secret", "admin-token", "tokens.stamp")


def tighten_tree(root: Path) -> None:
    """The service's own folders under ``root`` 0700 and their files 0600, and its own
    files in ``root`` 0600 (data written before this version, or copied in by hand);
    symbolic links are not followed."""
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if entry.is_symlink():
            continue
        if entry.is_file() and entry.name.startswith(OWN_FILE_PREFIXES):
            _chmod(entry, FILE_MODE)
        elif entry.is_dir() and entry.name in OWN_FOLDERS:
            _chmod(entry, DIR_MODE)
            for base, dirs, files in os.walk(entry):
                for name in dirs:
                    _chmod(Path(base) / name, DIR_MODE)
                for name in files:
                    _chmod(Path(base) / name, FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    if path.is_symlink():
        return
    with contextlib.suppress(OSError):
        os.chmod(path, mode)


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def new_scratch(parent: Path) -> Path:
    """A fresh private scratch folder under ``parent``, named after this process."""
    path = parent / f"{SCRATCH_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
    path.mkdir(mode=DIR_MODE)
    return path


def alive(pid: int) -> bool:
    """Whether a process with this id runs (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_scratch(parent: Path) -> list[str]:
    """Remove scratch folders left by processes that are gone (or older than a day);
    returns the names removed."""
    removed: list[str] = []
    if not parent.is_dir():
        return removed
    now = time.time()
    for path in parent.iterdir():
        if not path.name.startswith(SCRATCH_PREFIX) or not path.is_dir():
            continue
        owner = path.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue
        stale = age > SCRATCH_MAX_AGE_SECONDS
        if owner.isdigit():
            stale = stale or not alive(int(owner)) or int(owner) == os.getpid()
        else:  # an older version's scratch folder (no owner in its name)
            stale = True
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed
