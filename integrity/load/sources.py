"""Each source of a dataset read and typed, here or half of them in a forked child.

A source's outcome (:class:`Loaded`) holds everything the dataset takes from it: the typed
frame, the rows with an error, its issues in a collector of its own, the problems that stop
the load, and what run.json records of the file. The dataset merges the outcomes in the
sources' order (:meth:`~integrity.load.table.Issues.extend`), so a load split over two
processes lists the same issues, in the same order, as one read source by source.

``jobs`` 2 (the command line's scan): the files go to two processes by size, largest first to
the lighter side, a workbook's sheets together; the child sends its frames back through a
pipe (about a tenth of the time it saved on a city's files). Only where no other thread may
hold a lock at the fork (:mod:`integrity.forked`): not the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from integrity.errors import DatasetError, InputIssue
from integrity.forked import Forked, can_fork
from integrity.load.readers import ReadError, sha256_file
from integrity.load.table import Issues, Source, TableLoader, read_source, with_table


@dataclass
class Loaded:
    """One source's outcome."""

    issues: Issues
    fatal: list[InputIssue] = field(default_factory=list)
    frame: pd.DataFrame | None = None
    row_error: pd.Series | None = None
    encoding: str | None = None
    header_row: int = 0
    header_map: dict[str, str] = field(default_factory=dict)
    sha256: str = ""


def load_source(source: Source, hashes: dict[Path, str]) -> Loaded:
    """Read and type one source; a problem that stops the load is kept, not raised.
    ``hashes``: the files hashed so far (a workbook's sheets are one file)."""
    issues = Issues()
    try:
        raw, encoding = read_source(source)
        frame, row_error, header_map = TableLoader(source, raw, issues).load()
    except ReadError as exc:
        return Loaded(issues, fatal=with_table(exc.issues, source.table))
    except DatasetError as exc:
        return Loaded(issues, fatal=list(exc.issues))
    if source.path not in hashes:
        hashes[source.path] = sha256_file(source.path)
    return Loaded(
        issues,
        frame=frame,
        row_error=row_error,
        encoding=encoding,
        header_row=raw.header_row,
        header_map=header_map,
        sha256=hashes[source.path],
    )


def _load_all(sources: list[Source]) -> list[Loaded]:
    hashes: dict[Path, str] = {}
    return [load_source(source, hashes) for source in sources]


def load_sources(sources: list[Source], jobs: int = 1) -> list[Loaded]:
    """Every source's outcome, in the sources' order."""
    if jobs < 2 or not can_fork():
        return _load_all(sources)
    here, there = split_by_size(sources)
    if not here or not there:
        return _load_all(sources)
    child = Forked("integrity-load", _load_all, [sources[i] for i in there])
    try:
        mine = _load_all([sources[i] for i in here])
    except BaseException:  # this half failed: the other's work is moot
        child.close()
        raise
    theirs = child.result()
    out: dict[int, Loaded] = dict(zip(here, mine, strict=True))
    out.update(zip(there, theirs, strict=True))
    return [out[i] for i in range(len(sources))]


def split_by_size(sources: list[Source]) -> tuple[list[int], list[int]]:
    """The sources' positions in two halves of about equal bytes (a file's sheets in one
    half; the largest file to the child, whose frames come back through the pipe)."""
    files: dict[Path, list[int]] = {}
    for i, source in enumerate(sources):
        files.setdefault(source.path, []).append(i)
    sizes = {path: _size(path) for path in files}
    halves: tuple[list[int], list[int]] = ([], [])
    load = [0, 0]
    for path in sorted(files, key=lambda p: (-sizes[p], str(p))):
        side = 1 if load[1] <= load[0] else 0
        halves[side].extend(files[path])
        load[side] += sizes[path]
    return sorted(halves[0]), sorted(halves[1])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # read_source reports it
        return 0
