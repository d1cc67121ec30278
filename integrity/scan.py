"""One screening: load the dataset, run every applicable rule under a profile, time each stage.

The CLI, the API and batch jobs all call :func:`run_scan`; writing files is
:mod:`integrity.documents.output`'s job, so a failed scan writes nothing.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing as mp
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from integrity.errors import PolicyError
from integrity.findings import Finding, sort_findings
from integrity.forked import Forked, can_fork
from integrity.load.dataset import Dataset, load_dataset
from integrity.policy import Profile, ProgrammeSettings, RuleSettings, load_profile
from integrity.programme import missing_columns
from integrity.provisions import ProvisionStatus, provision_statuses
from integrity.rules import REGISTRY, ScanContext
from integrity.screening.tables import KinEngine

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

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
    # every provision of the profile: checked, not checked (and why), not applicable
    provisions: list[ProvisionStatus] = field(default_factory=list)
    # the engine of the kin expansion ("pandas", the default, or "spark")
    engine: str = "pandas"


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


# the rules read from the decisions (participants), which run in one process when the rules
# are split over two (run_rules' ``jobs``): three of them share the decisions' kin matches
# (ScanContext.shared); together they take about as long as the others (the city bench)
DECISION_RULES = frozenset({"acceptance", "avoidance", "related_supplier", "undeclared_relation"})
# the screening of a roster against the officials' families, which needs no project ledger
# (integrity registry-screen); undeclared_relation runs where there is a ledger too
ROSTER_RULES = ("related_supplier", "undeclared_relation")
# the other rules are taken from one queue by both processes, the costliest first (their
# seconds on the city bench): the process that is free takes the next, so neither waits long
# for the other; rules not named here follow in their order
COSTLIEST_FIRST = ("collusive_quotes", "split_bid", "quote_screens")


def run_rules(
    dataset: Dataset,
    profile: Profile,
    rules: Sequence[str],
    progress: Progress | None = None,
    stages: dict[str, float] | None = None,
    ctx: ScanContext | None = None,
    jobs: int = 1,
) -> tuple[list[Finding], list[RuleRun]]:
    """Every selected rule, run or not run with the reason. ``stages`` receives the time of
    the shared stages (identity, resolve, kinship, roles) when a selected rule needs them.

    ``jobs`` 2: after the shared stages, the rules read from the decisions (acceptance,
    avoidance, related_supplier, undeclared_relation) run in this process and the others in a
    forked one, which sees everything computed so far without copying it and sends back its
    findings, run records, notes and priors; this process, done with its own, takes the
    others' next rule from their common queue. The findings are the same either way. The CLI
    asks for it; the service does not (a request thread holding a lock at the fork would
    leave the child waiting on it)."""
    ctx = ctx or ScanContext(dataset=dataset, profile=profile)
    not_run = {c: _not_run_reason(c, dataset, profile) for c in rules}
    runnable = [c for c in rules if not_run[c] is None]
    done: dict[str, tuple[list[Finding], RuleRun]] = {}
    if any(REGISTRY[c].screening and profile.settings(c) is not None for c in rules):
        light = [c for c in runnable if not (REGISTRY[c].screening and REGISTRY[c].kin)]
        early = _run_early(ctx, profile, light) if jobs >= 2 and light and can_fork() else None
        try:
            if progress:
                progress("身份比对与亲属关系")
            prepared = ctx.screening.prepare()
        except BaseException:  # the shared stages failed: the early rules are moot
            if early is not None:
                early.close()
            raise
        if stages is not None:
            stages.update(prepared)
        if early is not None:
            done.update(_merge_child(ctx, early.result(), progress))
    rest = [c for c in runnable if c not in done]
    here = [c for c in rest if c in DECISION_RULES]
    there = [c for c in rest if c not in DECISION_RULES]
    if jobs >= 2 and here and there and can_fork():
        done.update(_run_split(ctx, profile, here, there, progress))
    findings: list[Finding] = []
    runs: list[RuleRun] = []
    for code in rules:
        reason = not_run[code]
        if reason is not None:
            runs.append(RuleRun(code, REGISTRY[code].title, "not_run", reason))
            continue
        if code not in done:
            if progress:
                progress(f"规则 {code}")
            done[code] = _run_one(ctx, profile, code)
        produced, run = done[code]
        runs.append(run)
        findings.extend(produced)
    return sort_findings(findings), runs


def _not_run_reason(code: str, dataset: Dataset, profile: Profile) -> str | None:
    rule = REGISTRY[code]
    if profile.settings(code) is None:
        if rule.programme and code not in profile.rules_not_applicable:
            return (
                f"政策配置 {profile.name} 没有该规则检查的条款 / "
                "the profile sets no provision this rule checks"
            )
        return profile.rules_not_applicable.get(
            code,
            f"政策配置 {profile.name} 未设置该规则 / profile has no [rules.{code}] section",
        )
    missing = [t for t in rule.needs if not dataset.has(t)]
    if missing:
        return f"缺少输入表 / missing input table: {', '.join(missing)}"
    return None


def checkable(
    settings: RuleSettings | None, checks: Mapping[str, Sequence[str]], dataset: Dataset
) -> RuleSettings | None:
    """A programme rule's settings without the provisions whose columns the dataset lacks:
    those are reported as not checked (integrity.provisions), never judged on absent data."""
    if not isinstance(settings, ProgrammeSettings):
        return settings
    kept = {
        key: p
        for key, p in settings.provisions.items()
        if not missing_columns(dataset, checks.get(key, ()))
    }
    return settings.model_copy(update={"provisions": kept})


def _run_one(ctx: ScanContext, profile: Profile, code: str) -> tuple[list[Finding], RuleRun]:
    rule = REGISTRY[code]
    began = time.perf_counter()
    produced = list(rule.run(ctx, checkable(profile.settings(code), rule.checks, ctx.dataset)))
    run = RuleRun(
        code,
        rule.title,
        "run",
        findings=len(produced),
        seconds=round(time.perf_counter() - began, 4),
        notes=ctx.notes.get(code, []),
    )
    return produced, run


def _run_split(
    ctx: ScanContext,
    profile: Profile,
    here: list[str],
    there: list[str],
    progress: Progress | None,
) -> dict[str, tuple[list[Finding], RuleRun]]:
    """``here`` in this process while a forked child runs ``there``; both take ``there``'s
    rules from one queue (costliest first), this process once ``here`` is done."""
    if "screening" in vars(ctx):  # prepared: what both halves read is built once, here
        ctx.screening.build_lookups()
    queue = sorted(there, key=lambda c: COSTLIEST_FIRST.index(c) if c in COSTLIEST_FIRST else 99)
    taken = mp.get_context("fork").Value("i", 0)  # how many of ``queue`` are taken
    child = Forked("integrity-rules", _child, ctx, profile, queue, taken)
    done: dict[str, tuple[list[Finding], RuleRun]] = {}
    try:
        # its own, then (lazily: once they are done) the next of the others
        for code in itertools.chain(here, _take(queue, taken)):
            if progress:
                progress(f"规则 {code}")
            done[code] = _run_one(ctx, profile, code)
    except BaseException:  # this half failed (or was interrupted): the other's work is moot
        child.close()
        raise
    done.update(_merge_child(ctx, child.result(), progress))
    return done


ChildResult = tuple[
    dict[str, tuple[list[Finding], RuleRun]], dict[str, list[str]], dict[str, float]
]


def _merge_child(
    ctx: ScanContext, answer: ChildResult, progress: Progress | None
) -> dict[str, tuple[list[Finding], RuleRun]]:
    """A forked child's rules: their findings and runs, its notes and priors taken here."""
    results, notes, priors = answer
    if progress:
        for code in results:
            progress(f"规则 {code}")
    for code, messages in notes.items():
        ctx.notes.setdefault(code, []).extend(messages)
    ctx.screening.priors.update(priors)
    return results


def _run_early(ctx: ScanContext, profile: Profile, codes: list[str]) -> Forked[ChildResult]:
    """The rules that read no kinship (``screening=False``: the programme's provisions,
    acceptance, the quotes' process; ``kin=False``: off_catalogue and quote_screens, which key
    the tables for themselves), started in a forked child at once: they run on the other
    core while this process builds the shared stages, which the rest wait for."""
    return Forked("integrity-rules-early", _early_child, ctx, profile, codes)


def _early_child(ctx: ScanContext, profile: Profile, codes: list[str]) -> ChildResult:
    return _answer(ctx, {code: _run_one(ctx, profile, code) for code in codes})


def _answer(ctx: ScanContext, results: dict[str, tuple[list[Finding], RuleRun]]) -> ChildResult:
    """A child's answer: its rules' findings and runs, their notes, the priors it learnt."""
    notes = {code: ctx.notes[code] for code in results if code in ctx.notes}
    return results, notes, dict(ctx.screening.priors)


def _take(codes: list[str], taken: Synchronized[int]) -> Iterator[str]:
    """The rules of ``codes`` no process has taken yet, one at a time, as this one is free."""
    while True:
        with taken.get_lock():
            i = taken.value
            taken.value = i + 1
        if i >= len(codes):
            return
        yield codes[i]


def _child(
    ctx: ScanContext, profile: Profile, codes: list[str], taken: Synchronized[int]
) -> ChildResult:
    """The forked half: the rules it takes from the queue, their notes, the priors."""
    return _answer(ctx, {code: _run_one(ctx, profile, code) for code in _take(codes, taken)})


def run_scan(
    dataset_path: str | Path,
    *,
    policy: str | Path,
    lenient: bool = False,
    rules: Sequence[str] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    engine: str = "pandas",
    master: str | None = None,
    registry: str | None = None,
) -> ScanResult:
    """``jobs``: see :func:`run_rules` (2 only where no other thread may hold a lock at the
    fork: the CLI, not the service). ``engine``: ``pandas`` (the default) or ``spark``
    (the kin expansion as Spark jobs, on ``master`` or in local mode; the same findings)."""
    if registry is not None and engine != "spark":
        raise PolicyError("--registry 需要 --engine spark / --registry needs --engine spark")
    kin_engine = _kin_engine(engine, master)
    with fewer_collections():
        result = _run_scan(
            dataset_path,
            policy=policy,
            lenient=lenient,
            rules=rules,
            progress=progress,
            jobs=1 if kin_engine is not None else jobs,
            kin_engine=kin_engine,
            registry=registry,
        )
    result.engine = engine
    return result


ENGINES = ("pandas", "spark")


def _kin_engine(engine: str, master: str | None) -> KinEngine | None:
    if engine not in ENGINES:
        raise PolicyError(
            f"未知引擎 / unknown engine: {engine}; 可用 / available: {', '.join(ENGINES)}"
        )
    if engine == "pandas":
        return None
    # imported only when asked for: PySpark is an extra
    from integrity.spark.engine import SparkEngine  # noqa: PLC0415

    return SparkEngine.start(master)


def _run_scan(
    dataset_path: str | Path,
    *,
    policy: str | Path,
    lenient: bool,
    rules: Sequence[str] | None,
    progress: Progress | None,
    jobs: int,
    kin_engine: KinEngine | None,
    registry: str | None = None,
) -> ScanResult:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    profile = load_profile(policy)
    selected = select_rules(rules)
    if progress:
        progress("读取数据")
    dataset = load_dataset(dataset_path, lenient=lenient, jobs=jobs)
    held = None
    if registry is not None:
        # imported only when asked for: PySpark is an extra
        from integrity.spark.engine import SparkEngine  # noqa: PLC0415

        assert isinstance(kin_engine, SparkEngine)
        held = kin_engine.hold_registry(registry, dataset, lenient=lenient)
    stages["load"] = round(time.perf_counter() - t0, 4)
    t1 = time.perf_counter()
    ctx = ScanContext(dataset=dataset, profile=profile, kin_engine=kin_engine, registry=held)
    findings, runs = run_rules(dataset, profile, selected, progress, stages, ctx, jobs)
    stages["rules"] = round(
        time.perf_counter() - t1 - sum(v for k, v in stages.items() if k != "load"), 4
    )
    if held is not None:  # where the registry's time went (within load and the rules)
        stages.update({f"registry.{k}": v for k, v in held.timings.items()})
    provisions = provision_statuses(profile, dataset, runs)
    return ScanResult(dataset, profile, findings, runs, stages, started, lenient, ctx, provisions)


def screening_for_check(
    dataset_path: str | Path,
    *,
    policy: str | Path,
    priors: dict[str, float],
    lenient: bool = False,
) -> ScanResult:
    """What a pre-award check index is built from, without running the rules: the dataset,
    the profile, and the shared screening with the priors an earlier run of the rules
    measured on the same data (its run record's ``priors``). The stages the index reads
    (identities, roles, kinship) are computed as the index asks for them."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    profile = load_profile(policy)
    dataset = load_dataset(dataset_path, lenient=lenient)
    ctx = ScanContext(dataset=dataset, profile=profile)
    ctx.screening.priors.update(priors)
    stages = {"load": round(time.perf_counter() - t0, 4)}
    return ScanResult(dataset, profile, [], [], stages, started, lenient, ctx)
