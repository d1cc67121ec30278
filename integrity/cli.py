"""The ``integrity`` command: screen a dataset, list policies and rules, check input files."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from graph import kinship
from integrity import __version__
from integrity.errors import DatasetError, EngineError, PolicyError
from integrity.policy import DEFAULT_PROFILE, available_profiles, load_profile
from integrity.summary import (
    err_console,
    out_console,
    print_json,
    print_summary,
    scan_summary,
)

# pandas, the rules and the screening are imported by the commands that need them: `--help`
# and `kin` answer without them
app = typer.Typer(
    help="民生微实事廉洁风险筛查 / integrity-risk screening for community micro-projects",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"integrity {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="显示版本 / show the version"
        ),
    ] = False,
) -> None:
    """民生微实事廉洁风险筛查 / integrity-risk screening for community micro-projects."""


EXIT_DATA, EXIT_POLICY, EXIT_ENGINE = 1, 2, 3


def _fail(message: str, code: int) -> typer.Exit:
    err_console().print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


DatasetArg = Annotated[
    Path, typer.Argument(help="数据集文件夹或 .xlsx 工作簿 / dataset folder or workbook")
]
PolicyOpt = Annotated[str, typer.Option(help="政策配置名称或 TOML 文件 / policy profile")]
OutOpt = Annotated[Path, typer.Option(help="输出文件夹 / output folder")]
LenientOpt = Annotated[
    bool, typer.Option(help="跳过有错误的行并在 run.json 列出 / skip bad rows, list them")
]
QuietOpt = Annotated[bool, typer.Option(help="不显示汇总表 / no summary")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="在标准输出写出汇总（JSON）/ a JSON summary on stdout")
]
JobsOpt = Annotated[
    int,
    typer.Option(
        min=1,
        max=2,
        help="读取文件与运行规则分两个进程并行（默认：有两个以上CPU时为2） / "
        "read the files and run the rules in two processes (default 2 where there are 2+ CPUs)",
    ),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        help="亲属关系展开的引擎：pandas（默认）或 spark / the kin expansion's engine: "
        "pandas (default) or spark (pip install 'integrity[spark]', Java)",
    ),
]
MasterOpt = Annotated[
    str | None,
    typer.Option(
        help="Spark 集群地址（默认本机 local 模式）/ a Spark master URL (default: local mode)"
    ),
]
RegistryOpt = Annotated[
    str | None,
    typer.Option(
        "--registry",
        help="企业关联人员登记库（CSV/Parquet 文件夹或 Spark 可读的 URL，需 --engine spark）/ "
        "the person-role registry (a folder or URL of CSV/Parquet files Spark reads; "
        "needs --engine spark)",
    ),
]
ByStreetOpt = Annotated[
    str | None,
    typer.Option(
        "--by-street",
        help="另按街道分区写出 findings_by_street/（jsonl 或 parquet）/ also write the findings "
        "partitioned by street (jsonl, or parquet with the spark extra)",
    ),
]
ShowIdsOpt = Annotated[
    bool,
    typer.Option(
        "--show-id-numbers",
        help="输出文件中显示完整身份证号（仅限管理员；默认打码 4403**********123X）/ "
        "write resident ID numbers in full (admin only; masked by default)",
    ),
]
JOBS = min(2, os.cpu_count() or 1)


@app.command()
def scan(
    dataset: DatasetArg,
    policy: PolicyOpt = DEFAULT_PROFILE,
    out: OutOpt = Path("out"),
    lenient: LenientOpt = False,
    rules: Annotated[
        str | None,
        typer.Option(help="只运行这些规则，逗号分隔 / only these rules, comma-separated"),
    ] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    jobs: JobsOpt = JOBS,
    engine: EngineOpt = "pandas",
    master: MasterOpt = None,
    by_street: ByStreetOpt = None,
    registry: RegistryOpt = None,
    show_ids: ShowIdsOpt = False,
) -> None:
    """筛查一个数据集并写出 findings.json/.csv/.xlsx 与 run.json。"""
    selected = [r.strip() for r in rules.split(",") if r.strip()] if rules else None
    _screen(
        dataset,
        policy,
        out,
        lenient,
        selected,
        quiet,
        as_json,
        jobs,
        engine,
        master,
        by_street,
        registry=registry,
        show_ids=show_ids,
    )


@app.command("registry-screen")
def registry_screen(
    dataset: DatasetArg,
    policy: PolicyOpt = DEFAULT_PROFILE,
    out: OutOpt = Path("out/registry"),  # not a scan's out/: a roster run would replace it
    lenient: LenientOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    jobs: JobsOpt = JOBS,
    engine: EngineOpt = "pandas",
    master: MasterOpt = None,
    by_street: ByStreetOpt = None,
    registry: RegistryOpt = None,
    show_ids: ShowIdsOpt = False,
) -> None:
    """名录筛查（不需要项目台账）：公职人员本人及其亲属在供应商中任职的，写出回避提示表。

    有项目台账时，另查未申报的亲属关系。/ Roster-only screening, no project ledger needed:
    officials' relatives in the suppliers' roles, the recusal notice by street.
    """
    from integrity.scan import ROSTER_RULES  # noqa: PLC0415

    _screen(
        dataset,
        policy,
        out,
        lenient,
        list(ROSTER_RULES),
        quiet,
        as_json,
        jobs,
        engine,
        master,
        by_street,
        provisions=False,
        registry=registry,
        show_ids=show_ids,
    )


def _screen(
    dataset: Path,
    policy: str,
    out: Path,
    lenient: bool,
    selected: list[str] | None,
    quiet: bool,
    as_json: bool,
    jobs: int,
    engine: str,
    master: str | None,
    by_street: str | None,
    *,
    provisions: bool = True,
    registry: str | None = None,
    show_ids: bool = False,
) -> None:
    from integrity.documents.output import write_outputs  # noqa: PLC0415
    from integrity.scan import fewer_collections, run_scan, select_rules  # noqa: PLC0415

    started = time.perf_counter()
    try:
        codes = select_rules(selected)
        load_profile(policy)
    except PolicyError as exc:
        raise _fail(str(exc), EXIT_POLICY) from exc
    if by_street is not None:
        from integrity.documents.partitions import check_format  # noqa: PLC0415

        try:
            check_format(by_street)
        except PolicyError as exc:
            raise _fail(str(exc), EXIT_POLICY) from exc
        except EngineError as exc:
            raise _fail(str(exc), EXIT_ENGINE) from exc
    err = err_console()
    show_progress = err.is_terminal and not quiet
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show_progress,
    )
    with progress:
        task = progress.add_task("准备", total=len(codes) + 2)

        def step(label: str) -> None:
            progress.update(task, description=label, advance=0 if label == "读取数据" else 1)

        try:
            result = run_scan(
                dataset,
                policy=policy,
                lenient=lenient,
                rules=codes,
                progress=step,
                jobs=jobs,
                engine=engine,
                master=master,
                registry=registry,
            )
        except EngineError as exc:
            progress.stop()
            raise _fail(str(exc), EXIT_ENGINE) from exc
        except DatasetError as exc:
            progress.stop()
            raise _fail(
                f"数据有误，未写出任何结果 / input errors, nothing written:\n{exc}", EXIT_DATA
            ) from exc
        except PolicyError as exc:
            raise _fail(str(exc), EXIT_POLICY) from exc
        progress.update(task, description="写出结果", advance=1)
        with fewer_collections():
            record = write_outputs(
                result, out, started, jobs=jobs, by_street=by_street, show_ids=show_ids
            )
        progress.update(task, advance=1)
    if as_json:
        print_json(scan_summary(record, out, provisions=provisions))
    elif not quiet:
        print_summary(result, out, out_console(), record.get("reports", []), provisions=provisions)


@app.command()
def sample(
    dataset: Annotated[
        Path, typer.Argument(help="数据集文件夹或 .xlsx 工作簿 / dataset folder or workbook")
    ],
    seed: Annotated[int, typer.Option(help="随机种子，同一种子得到同一样本 / random seed")],
    rate: Annotated[
        float | None,
        typer.Option(help="抽查比例，默认取政策配置（龙岗20%） / sampling rate"),
    ] = None,
    policy: Annotated[
        str, typer.Option(help="政策配置名称或 TOML 文件 / policy profile")
    ] = DEFAULT_PROFILE,
    out: Annotated[Path, typer.Option(help="输出文件夹 / output folder")] = Path("out/sample"),
    as_json: Annotated[
        bool, typer.Option("--json", help="在标准输出写出汇总（JSON）/ a JSON summary on stdout")
    ] = False,
) -> None:
    """抽取专项抽查样本（第二十五条）：不低于比例、覆盖所有社区、按风险加权，写出 xlsx 与 json。"""
    from integrity.documents.output import dataset_sha256  # noqa: PLC0415
    from integrity.sample import draw as draw_sample  # noqa: PLC0415
    from integrity.sample import write_sample  # noqa: PLC0415
    from integrity.scan import run_scan  # noqa: PLC0415

    try:
        profile = load_profile(policy)
        result = run_scan(dataset, policy=policy)
    except PolicyError as exc:
        raise _fail(str(exc), EXIT_POLICY) from exc
    except DatasetError as exc:
        raise _fail(f"数据有误 / input errors:\n{exc}", EXIT_DATA) from exc
    if not result.dataset.has("projects"):
        raise _fail("没有项目台账，无从抽样 / no projects table to sample from", EXIT_DATA)
    if rate is None:
        given = [p.value for p in profile.provisions if p.key == "inspection.sample_rate"]
        rate = float(given[0]) if given and isinstance(given[0], int | float) else 0.2
    try:
        drawn = draw_sample(result.dataset.table("projects"), result.findings, rate=rate, seed=seed)
    except ValueError as exc:
        raise _fail(str(exc), EXIT_POLICY) from exc
    drawn = replace(
        drawn,
        provenance={
            "dataset": result.dataset.root,
            "dataset_sha256": dataset_sha256(result.dataset),
            "policy": profile.name,
            "version": __version__,
            "drawn_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    written = write_sample(drawn, out)
    if as_json:
        summary = {k: v for k, v in drawn.to_dict().items() if k != "projects"}
        print_json(summary | {"files": [str(p) for p in written]})
        return
    console = out_console()
    console.print(
        f"从{drawn.population}个项目中抽取{len(drawn.rows)}个（比例{rate:.0%}，"
        f"覆盖{drawn.communities}个社区，种子{seed}）；"
        f"其中有发现的{sum(1 for r in drawn.rows if r['findings'])}个。"
    )
    console.print("已写入：" + "、".join(str(p) for p in written))


@app.command()
def report(
    scan_dir: Annotated[
        Path, typer.Argument(help="筛查结果文件夹（scan 的 --out）/ a scan's output")
    ],
    out: Annotated[Path, typer.Option(help="报告输出文件夹 / output folder")] = Path("out/report"),
    sample_dir: Annotated[
        Path | None,
        typer.Option("--sample", help="附入的抽查样本（sample 的 --out）/ a sample to include"),
    ] = None,
) -> None:
    """写出审计报告：报告.html 与 报告.pdf（封面、汇总表、图表、政策条款、抽查样本、
    高风险发现及关系路径图）。"""
    from integrity.documents.report import ReportError, write_report  # noqa: PLC0415 - slow imports

    try:
        written = write_report(scan_dir, out, sample=sample_dir)
    except ReportError as exc:
        raise _fail(str(exc), EXIT_DATA) from exc
    out_console().print("已写入：" + "、".join(str(p) for p in written), soft_wrap=True)


@app.command()
def policies() -> None:
    """列出可用的政策配置。"""
    table = Table(title="政策配置")
    for col in ("名称", "政策", "文号/来源", "已配置规则", "不适用"):
        table.add_column(col)
    for name in available_profiles():
        try:
            p = load_profile(name)
        except PolicyError as exc:
            raise _fail(str(exc), EXIT_POLICY) from exc
        mark = "（默认）" if name == DEFAULT_PROFILE else ""
        source = p.document.number or f"新闻报道 {p.document.reported}"
        table.add_row(
            name + mark,
            p.label,
            source,
            ", ".join(sorted(p.rules)),
            ", ".join(sorted(p.rules_not_applicable)),
        )
    out_console().print(table)


@app.command("rules")
def list_rules() -> None:
    """列出已实现的规则及其说明。"""
    console = out_console()
    from integrity.rules import REGISTRY  # noqa: PLC0415

    for code, rule in sorted(REGISTRY.items()):
        console.print(f"[bold]{code}[/bold]　{rule.title}（需要：{', '.join(rule.needs)}）")
        console.print(rule.doc, markup=False)
        console.print()


@app.command()
def validate(
    dataset: Annotated[Path, typer.Argument(help="数据集文件夹或 .xlsx 工作簿")],
    as_json: Annotated[
        bool, typer.Option("--json", help="在标准输出写出汇总（JSON）/ a JSON summary on stdout")
    ] = False,
) -> None:
    """只检查输入文件：列出错误与警告，不运行规则。"""
    from integrity.load.dataset import load_dataset  # noqa: PLC0415

    try:
        ds = load_dataset(dataset)
    except DatasetError as exc:
        if as_json:
            print_json({"ok": False, "errors": [i.to_dict() for i in exc.issues]})
            raise typer.Exit(EXIT_DATA) from exc
        raise _fail(f"数据有误 / input errors:\n{exc}", EXIT_DATA) from exc
    if as_json:
        print_json(
            {
                "ok": True,
                "tables": [s.to_dict() for s in ds.sources],
                "warnings": ds.warning_total,
                "warning_list": [i.to_dict() for i in ds.warnings[:200]],
            }
        )
        return
    console = out_console()
    for s in ds.sources:
        console.print(
            f"{s.file}：{s.table}，{s.rows} 行，编码 {s.encoding or 'xlsx'}，"
            f"表头在第{s.header_row}行",
            markup=False,
        )
    by_kind = Counter((i.file, i.code) for i in ds.warnings)
    for (file, code), n in sorted(by_kind.items()):
        console.print(f"警告 {file} {code}：{n} 处", markup=False)
    for issue in ds.warnings[:20]:
        console.print(issue.render(), markup=False, soft_wrap=True)
    if ds.warning_total > 20:
        console.print(
            f"……仅列出前 20 条，共 {ds.warning_total} 条警告（scan 写出的 run.json 列出全部）"
        )
    console.print(f"通过：{len(ds.sources)} 张表，{ds.warning_total} 条警告")


SEX_WORDS = {"男": "男", "女": "女", "m": "男", "f": "女", "male": "男", "female": "女"}


def _kin_line(chain: str, sex: str | None) -> dict[str, object]:
    try:
        return kinship.kin(chain, sex).to_dict()  # type: ignore[arg-type]
    except kinship.UnknownKinTermError as exc:
        return {"chain": chain, "error": str(exc), "term": exc.term}


def _kin_text(answer: dict[str, object]) -> str:
    if "error" in answer:
        return str(answer["error"])
    if answer["category"] is None:
        return f"{answer['chain']}：{answer['detail']}"
    lines = [f"{answer['chain']}：{answer['category']}"]
    if answer.get("ambiguous"):
        lines[0] += "（关系链有歧义，见下列可能）"
    if answer["detail"]:
        lines[0] += f"（{answer['detail']}）"
    gens = answer.get("generations")
    if isinstance(gens, list):
        lines.append(f"  代际：本人上溯{gens[0]}代、对方上溯{gens[1]}代至共同祖先")
    terms = answer.get("terms")
    if isinstance(terms, list) and terms:
        lines.append(f"  称谓：{'、'.join(str(t) for t in terms)}")
    alternatives = answer.get("alternatives")
    if isinstance(alternatives, list):
        lines.append("  关系链有歧义，可能是：")
        for alt in alternatives:
            assert isinstance(alt, dict)
            names = "、".join(alt["terms"]) or alt["code"] or "本人"
            lines.append(f"    · {alt['category']}：{names}")
    return "\n".join(lines)


@app.command("kin")
def kin_command(
    chain: Annotated[
        str, typer.Argument(help="称谓或关系链，如 老婆的哥哥；“-” 从标准输入逐行读取")
    ],
    sex: Annotated[str | None, typer.Option(help="本人性别 男/女 / the speaker's sex")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（每行一个对象）")] = False,
) -> None:
    """亲属关系链的法定类别：本人、配偶、直系血亲、三代以内旁系血亲、近姻亲、非近亲属。"""
    speaker = None
    if sex is not None:
        speaker = SEX_WORDS.get(sex.strip().lower())
        if speaker is None:
            raise _fail(f"性别应为 男 或 女 / --sex must be 男 or 女: {sex!r}", EXIT_POLICY)
    chains = [line.strip() for line in sys.stdin] if chain == "-" else [chain]
    failed = False
    console = out_console()
    for line in filter(None, chains):
        answer = _kin_line(line, speaker)
        failed |= "error" in answer
        if as_json:
            sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        else:
            console.print(_kin_text(answer), markup=False, highlight=False)
    if failed and chain != "-":
        raise typer.Exit(EXIT_DATA)


def main() -> None:  # pragma: no cover - console entry for python -m
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
