"""One screening: load the dataset, run every applicable rule under a profile, time each stage.

The CLI, the API and batch jobs all call :func:`run_scan`; writing files is
:mod:`integrity.output`'s job, so a failed scan writes nothing.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from integrity.errors import PolicyError
from integrity.findings import Finding, sort_findings
from integrity.load import Dataset, load_dataset
from integrity.policy import Profile, load_profile
from integrity.rules import REGISTRY, ScanContext

Progress = Callable[[str], None]

# the cyclic collector's first-generation threshold while a scan runs: a scan keeps millions
# of small objects alive (rows as dicts, paths as tuples), and at the default (700) the
# collector walks them over and over; measured on the city bench, 6% of the scan, the same
# peak memory (bench/README.md)
SCAN_GC_THRESHOLD = 100_000


class _Collections:
    """The raised thresholds, shared: nested and concurrent scans raise them once, and the
    last one out restores what was there."""

    lock = threading.Lock()
    depth = 0
    saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold to SCAN_GC_THRESHOLD for the duration."""
    c = _Collections
    with c.lock:
        if c.depth == 0:
            c.saved = gc.get_threshold()
            gc.set_threshold(SCAN_GC_THRESHOLD, c.saved[1], c.saved[2])
        c.depth += 1
    try:
        yield
    finally:
        with c.lock:
            c.depth -= 1
            if c.depth == 0:
                gc.set_threshold(*c.saved)


@dataclass
class RuleRun:
    rule: str
    title: str
    status: Literal["run", "not_run"]
    reason: str = ""
    findings: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass
class ScanResult:
    dataset: Dataset
    profile: Profile
    findings: list[Finding]
    rule_runs: list[RuleRun]
    stages: dict[str, float] = field(default_factory=dict)
    started_at: str = ""
    lenient: bool = False
    # the rules' shared context (identities, kinship, holders): the service keeps it as the
    # index the pre-award check answers from
    context: ScanContext | None = None


def select_rules(names: Sequence[str] | None) -> list[str]:
    if not names:
        return sorted(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        known = ", ".join(sorted(REGISTRY))
        raise PolicyError(
            f"未知规则 / unknown rule: {', '.join(unknown)}; 可用 / available: {known}"
        )
    return list(dict.fromkeys(names))


def run_rules(
    dataset: Dataset,
    profile: Profile,
    rules: Sequence[str],
    progress: Progress | None = None,
    stages: dict[str, float] | None = None,
    ctx: ScanContext | None = None,
) -> tuple[list[Finding], list[RuleRun]]:
    """Every selected rule, run or not run with the reason. ``stages`` receives the time of
    the shared stages (identity, resolve, kinship, roles) when a selected rule needs them."""
    ctx = ctx or ScanContext(dataset=dataset, profile=profile)
    if any(REGISTRY[c].screening and profile.settings(c) is not None for c in rules):
        if progress:
            progress("身份比对与亲属关系")
        prepared = ctx.screening.prepare()
        if stages is not None:
            stages.update(prepared)
    findings: list[Finding] = []
    runs: list[RuleRun] = []
    for code in rules:
        rule = REGISTRY[code]
        if progress:
            progress(f"规则 {code}")
        settings = profile.settings(code)
        if settings is None:
            reason = profile.rules_not_applicable.get(
                code,
                f"政策配置 {profile.name} 未设置该规则 / profile has no [rules.{code}] section",
            )
            runs.append(RuleRun(code, rule.title, "not_run", reason))
            continue
        missing = [t for t in rule.needs if not dataset.has(t)]
        if missing:
            reason = f"缺少输入表 / missing input table: {', '.join(missing)}"
            runs.append(RuleRun(code, rule.title, "not_run", reason))
            continue
        began = time.perf_counter()
        produced = list(rule.run(ctx, settings))
        runs.append(
            RuleRun(
                code,
                rule.title,
                "run",
                findings=len(produced),
                seconds=round(time.perf_counter() - began, 4),
                notes=ctx.notes.get(code, []),
            )
        )
        findings.extend(produced)
    return sort_findings(findings), runs


def run_scan(
    dataset_path: str | Path,
    *,
    policy: str | Path,
    lenient: bool = False,
    rules: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    with fewer_collections():
        return _run_scan(
            dataset_path, policy=policy, lenient=lenient, rules=rules, progress=progress
        )


def _run_scan(
    dataset_path: str | Path,
    *,
    policy: str | Path,
    lenient: bool,
    rules: Sequence[str] | None,
    progress: Progress | None,
) -> ScanResult:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    profile = load_profile(policy)
    selected = select_rules(rules)
    if progress:
        progress("读取数据")
    dataset = load_dataset(dataset_path, lenient=lenient)
    stages["load"] = round(time.perf_counter() - t0, 4)
    t1 = time.perf_counter()
    ctx = ScanContext(dataset=dataset, profile=profile)
    findings, runs = run_rules(dataset, profile, selected, progress, stages, ctx)
    stages["rules"] = round(
        time.perf_counter() - t1 - sum(v for k, v in stages.items() if k != "load"), 4
    )
    return ScanResult(dataset, profile, findings, runs, stages, started, lenient, ctx)
