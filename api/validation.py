"""Validating an uploaded dataset in a separate process.

Loading a ledger of a few hundred megabytes is seconds of pandas work, much of it in C loops
that hold Python's global interpreter lock for their whole length: run in a thread of the
service, it stalls every other request (`/health` waited over a second behind a 200 MB
upload, bench/bench_upload.py). Run in a child process it shares nothing with the event
loop. The child answers a small picklable summary — what the dataset record keeps — or the
problem to answer; the dataset itself stays on disk, and a screening loads it again.

Children come from a forkserver that has the loader imported already (a child starts in
milliseconds), and each validates one upload and exits, so the memory of a large upload is
returned to the system at once.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.jsonable import plain
from api.problems import Problem, issue_entry
from integrity.errors import DatasetError
from integrity.load import Dataset, load_dataset

UPLOAD_NAME = "上传的数据集"  # how issues about the dataset as a whole name it
MAX_ERRORS_LISTED = 500


@dataclass(frozen=True)
class DatasetSummary:
    """What the dataset record keeps of a validated dataset."""

    files: list[dict[str, Any]]
    rows: int
    warnings: int
    streets: list[str]


def dataset_streets(dataset: Dataset) -> list[str]:
    """The streets a dataset names (its officials' and its projects')."""
    found: set[str] = set()
    for table in ("staff", "projects"):
        frame = dataset.tables.get(table)
        if frame is not None and "street" in frame:
            found.update(str(s).strip() for s in frame["street"].dropna() if str(s).strip())
    return sorted(found)


def _outcome(folder: str) -> dict[str, Any]:
    """In the child: the summary, or the problem, as plain data."""
    try:
        # issues name the upload, never the scratch folder on the server
        dataset = load_dataset(Path(folder), display_name=UPLOAD_NAME)
    except DatasetError as exc:
        errors = [issue_entry(i) for i in exc.issues if i.level == "error"]
        return {
            "problem": {
                "status": 422,
                "detail": f"数据集有 {len(errors)} 处错误，未保存 / the dataset has "
                f"{len(errors)} errors and was not saved",
                "type_": "urn:integrity:problem:invalid-dataset",
                "errors": plain(errors[:MAX_ERRORS_LISTED]),
                "error_count": len(errors),
            }
        }
    return {
        "summary": {
            "files": [plain(s.to_dict()) for s in dataset.sources],
            "rows": sum(s.rows for s in dataset.sources),
            "warnings": dataset.warning_total,
            "streets": dataset_streets(dataset),
        }
    }


def _answer(outcome: dict[str, Any]) -> DatasetSummary:
    if "problem" in outcome:
        problem = dict(outcome["problem"])
        raise Problem(problem.pop("status"), problem.pop("detail"), **problem)
    return DatasetSummary(**outcome["summary"])


def validate_here(folder: Path) -> DatasetSummary:
    """Validate in this process (the command line, tests of the store)."""
    return _answer(_outcome(str(folder)))


class Validator:
    """Validates in a child process; one pool per service, made on first use."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["integrity.load", "api.validation"])
                self._pool = ProcessPoolExecutor(
                    max_workers=2, mp_context=context, max_tasks_per_child=1
                )
            return self._pool

    def __call__(self, folder: Path) -> DatasetSummary:
        try:
            outcome = self._executor().submit(_outcome, str(folder)).result()
        except BrokenProcessPool as exc:  # the child died (out of memory, killed)
            with self._lock:
                self._pool = None
            raise Problem(
                503,
                "校验数据集的进程意外退出，请稍后重试 / the process validating the dataset "
                "died; try again later",
            ) from exc
        return _answer(outcome)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
