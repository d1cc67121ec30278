"""The ``integrity`` command: integrity's own commands plus the service's ``serve`` and
``token``. (The service builds on integrity, never the other way round, so its commands are
added here rather than in integrity.cli.)"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from integrity.cli import app
from integrity.summary import err_console, out_console

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ["app"]


# the service's storage, as `serve` and `token` take it
DataDirOption = Annotated[Path | None, typer.Option(help="数据目录（默认 ./var）/ data directory")]
DatabaseUrlOption = Annotated[
    str | None, typer.Option(help="数据库 URL（默认 SQLite）/ SQLAlchemy URL")
]


def _settings(data_dir: Path | None, database_url: str | None) -> Settings:
    from api.settings import Settings  # noqa: PLC0415

    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    settings = Settings(**overrides)  # type: ignore[arg-type]
    # the uvicorn workers build their own settings from the environment: hand them these
    for key, value in overrides.items():
        os.environ[f"INTEGRITY_{key.upper()}"] = str(value)
    return settings


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="监听地址 / bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    workers: Annotated[
        int,
        typer.Option(
            help="HTTP 工作进程数，共用一份核查索引 / uvicorn workers sharing one check index"
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="日志级别 / uvicorn log level")] = "info",
) -> None:
    """启动服务（SQLite，无需配置）；首次启动生成管理员令牌，保存在 var/admin-token。"""
    import uvicorn  # noqa: PLC0415

    from api.service import Service  # noqa: PLC0415

    # everything the service writes holds personal data: its files are the owner's only
    os.umask(0o077)
    settings = _settings(data_dir, database_url)
    service = Service(settings)
    token_file = service.bootstrap_admin()
    service.close()
    console = err_console()
    if token_file is not None:
        # shown once, on the console of whoever started the service (as the file is theirs)
        console.print(
            f"首次启动：管理员令牌 / first start, the admin token: "
            f"{token_file.read_text().strip()}\n（另存于 {token_file}，仅本机可读 / also in "
            f"{token_file}, readable by its owner only）",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    console.print(f"数据库 / database: {settings.url}", highlight=False, markup=False)
    console.print(f"页面 / pages: http://{host}:{port}/ui/login", highlight=False)
    console.print(f"接口文档 / API docs: http://{host}:{port}/docs", highlight=False)
    if workers > 1:
        # one check index, loaded here and shared by the forked workers (api.workers)
        from api.workers import Workers  # noqa: PLC0415

        pool = Workers(settings, host=host, port=port, count=workers, log_level=log_level)
        try:
            code = pool.run()
        except OSError as exc:  # the address taken, or not this machine's
            console.print(
                f"[red]无法监听 {host}:{port}（{exc.strerror}）/ cannot listen on "
                f"{host}:{port}: {exc.strerror}[/red]",
                highlight=False,
            )
            raise typer.Exit(2) from exc
        raise typer.Exit(code)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


@app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="持有人，如 龙城街道纪工委 / holder")],
    role: Annotated[str, typer.Option(help="admin | commission | reviewer | auditor")] = "reviewer",
    street: Annotated[
        list[str] | None, typer.Option(help="纪工委所辖街道（可重复）/ a commission's street")
    ] = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """签发 API 令牌（只显示一次，数据库中只保存其散列）；纪工委令牌须指已有数据集中的街道。"""
    from api.security import Principal  # noqa: PLC0415
    from api.service import Service, UnknownStreet  # noqa: PLC0415

    service = Service(_settings(data_dir, database_url))
    operator = Principal(None, "命令行 / command line", "admin")
    try:
        value, record = service.issue_token(name, role, street or [], operator)
    except UnknownStreet as exc:
        known = "、".join(exc.known) or "（尚无数据集）"
        err_console().print(
            f"[red]没有数据集包含街道「{'、'.join(exc.streets)}」/ no dataset names this "
            f"street.[/red] 已知街道 / known streets: {known}",
            highlight=False,
        )
        raise typer.Exit(2) from exc
    except ValueError as exc:
        err_console().print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        service.close()
    scope = "：" + "、".join(record.streets) if record.streets else ""
    err_console().print(f"令牌 #{record.id}（{record.role}{scope}）", highlight=False)
    out_console().print(value, highlight=False, markup=False)
