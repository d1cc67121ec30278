"""Work done at the same time in a forked child: the rules split over two processes, the
workbook written while the other files are. A forked child sees everything the parent has
built (the screening's tables, the findings) without copying it; it sends back its result,
or its error with the traceback, through a pipe.

Only where no other thread may hold a lock at the fork: the command line, not the service.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import pickle
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TextIO, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether this platform forks (Linux, not Windows)."""
    return "fork" in mp.get_all_start_methods()


class Forked(Generic[T]):
    """``fn(*args)`` in a forked child, started at once; :meth:`result` waits for it.

    The objects that exist at the fork are left out of collections while it forks (the
    collector writing to them would copy every page the two processes share)."""

    def __init__(self, name: str, fn: Callable[..., T], *args: Any) -> None:
        self.name = name
        fork = mp.get_context("fork")
        self._receive, send = fork.Pipe(duplex=False)
        gc.freeze()
        try:
            self._child = fork.Process(target=_main, args=(fn, args, send), name=name, daemon=True)
            self._child.start()
        except BaseException:  # nothing started: nothing to wait for
            self._receive.close()
            raise
        finally:
            gc.unfreeze()
            send.close()
        self._done = self._answered = False

    def result(self) -> T:
        """The child's return value; its exception re-raised here (the child's traceback
        as the cause); a child that died without answering is a RuntimeError."""
        try:
            status, payload = self._receive.recv()
            self._answered = True
        except EOFError:
            self._child.join()
            raise RuntimeError(
                f"子进程异常退出 / the child process died (exit code {self._child.exitcode}): "
                f"{self.name}"
            ) from None
        finally:
            self.close()
        if status == "error":
            _raise_from_child(*payload)
        value: T = payload
        return value

    def close(self) -> None:
        """Stop the child if it is still at work (this side failed: its work is moot) and
        reap it."""
        if self._done:
            return
        self._done = True
        if not self._answered and self._child.is_alive():
            self._child.terminate()
        self._receive.close()
        self._child.join()


def _main(fn: Callable[..., Any], args: tuple[Any, ...], send: Connection) -> None:
    # the parent's progress display may own sys.stdout/stderr, and its refresh thread may
    # have held a stream's lock at the fork (then held here for ever): the child writes a
    # warning, if any, through streams of its own on the same descriptors
    sys.stdout = _fresh(sys.__stdout__)
    sys.stderr = _fresh(sys.__stderr__)
    try:
        send.send(("ok", fn(*args)))
    except BaseException as exc:  # the parent re-raises it (or, not picklable, its text)
        try:
            pickled: bytes | None = pickle.dumps(exc)
        except Exception:
            pickled = None
        send.send(("error", (pickled, traceback.format_exc())))
    finally:
        send.close()


def _fresh(stream: TextIO | None) -> TextIO | None:
    """A new text stream on ``stream``'s descriptor, line-buffered (the same stream where it
    has none, as under pytest's capture)."""
    if stream is None:
        return None
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return stream
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return open(  # the child's stream for its life
        fd, "w", encoding=encoding, errors="backslashreplace", buffering=1, closefd=False
    )


def _raise_from_child(pickled: bytes | None, text: str) -> None:
    """The child's exception, with its traceback as the cause (or, where it cannot be
    rebuilt here, a RuntimeError carrying the traceback)."""
    try:
        error = pickle.loads(pickled) if pickled is not None else None
    except Exception:
        error = None
    if isinstance(error, BaseException):
        raise error from RuntimeError(f"子进程 / in the child process:\n{text}")
    raise RuntimeError(f"子进程出错 / the child process failed:\n{text}")
