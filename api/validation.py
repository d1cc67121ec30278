"""Validating an uploaded dataset in a separate process.

Loading a ledger of a few hundred megabytes is seconds of pandas work, much of it in C loops
that hold Python's global interpreter lock for their whole length: run in a thread of the
service, it stalls every other request (`/health` waited over a second behind a 200 MB
upload, bench/bench_upload.py). Run in a child process it shares nothing with the event
loop. The child answers a small picklable summary — what the dataset record keeps — or the
problem to answer; the dataset itself stays on disk, and a screening loads it again.

Children come from a forkserver that has the loader imported already (a child starts in
milliseconds), and each validates one upload and exits, so the memory of a large upload is
returned to the system at once. Each runs under an address-space limit and a time limit.
"""

from __future__ import annotations

import multiprocessing
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from api.jsonable import plain
from api.problems import Problem, issue_entry
from integrity.errors import DatasetError
from integrity.load.dataset import Dataset, load_dataset

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


def _child(folder: str, answer: Connection, memory: int) -> None:
    """The child's work: validate under an address-space limit, answer through the pipe."""
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        outcome = _outcome(folder)
    except MemoryError:
        outcome = {
            "problem": {
                "status": 413,
                "detail": "数据集过大，校验超出内存上限 / the dataset needs more memory to "
                "validate than the service allows",
            }
        }
    answer.send(outcome)
    answer.close()


class Validator:
    """Validates each upload in a child process of its own, with a memory limit and a time
    limit: a workbook that inflates beyond reason (a few hundred kilobytes can hold
    gigabytes of sheet XML) fails its own child, not the service."""

    def __init__(self, *, memory: int = 0, seconds: float = 0) -> None:
        self.memory = memory
        self.seconds = seconds
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["integrity.load.dataset", "api.validation"])

    def __call__(self, folder: Path) -> DatasetSummary:
        receive, send = self._context.Pipe(duplex=False)
        child = self._context.Process(
            target=_child, args=(str(folder), send, self.memory), daemon=True
        )
        child.start()
        send.close()
        try:
            if not receive.poll(self.seconds or None):
                raise Problem(
                    413,
                    f"数据集校验超过 {self.seconds:.0f} 秒，已停止 / validating the dataset took "
                    f"over {self.seconds:.0f} s and was stopped",
                )
            outcome = receive.recv()
        except (EOFError, OSError) as exc:  # the child died without an answer
            raise Problem(
                413,
                "校验数据集的进程意外退出（数据集可能过大）/ the process validating the dataset "
                "died (the dataset may be too large)",
            ) from exc
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join(timeout=10)
        return _answer(outcome)

    def close(self) -> None:
        """Nothing held between uploads (each child ends with its upload)."""
