"""A process's own peak memory, for the benchmarks.

``resource.getrusage(...).ru_maxrss`` is the wrong measure for a process started from a larger
one: Linux keeps the high-water mark across ``execve``, so a child spawned by a 2 GB parent
reports at least the parent's RSS at the fork. ``VmHWM`` in ``/proc/<pid>/status`` is the peak
of the process's own address space since its last exec."""

from __future__ import annotations

from pathlib import Path


def _field_mib(path: str, field: str) -> float:
    """A ``field:  N kB`` line of a /proc file, in MiB (0 where the process is gone)."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mib(pid: int | str = "self") -> float:
    """The peak resident memory (VmHWM) of process ``pid`` in MiB (0 where it is gone)."""
    return _field_mib(f"/proc/{pid}/status", "VmHWM")


def pss_mib(pid: int | str = "self") -> float:
    """The proportional set size of ``pid`` in MiB: its private pages plus its share of the
    pages it shares (forked workers sharing one index each count a part of it)."""
    return _field_mib(f"/proc/{pid}/smaps_rollup", "Pss")


def rss_now_mib(pid: int | str = "self") -> float:
    """The resident memory (VmRSS) of ``pid`` now, in MiB."""
    return _field_mib(f"/proc/{pid}/status", "VmRSS")


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (from /proc's children lists)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = Path(f"/proc/{current}/task").iterdir()
            children = [
                int(c)
                for task in tasks
                for c in (task / "children").read_text(encoding="ascii").split()
            ]
        except OSError:
            continue
        found.extend(children)
        todo.extend(children)
    return found
