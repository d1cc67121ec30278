"""What users of a typer/rich command expect: --version, --json summaries for scripts, --help
and kin without loading pandas or the service, and output to a file not wrapped at 80."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from integrity import __version__
from integrity.cli import app
from tests.conftest import DEMO, FIXTURES

runner = CliRunner()
BIN = Path(sys.executable).parent / "integrity"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"integrity {__version__}"


def test_help_and_kin_load_neither_pandas_nor_the_service() -> None:
    code = (
        "import sys, api.cli; "
        "heavy = [m for m in ('pandas', 'api.service', 'integrity.screening.tables', 'weasyprint') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
    kin = subprocess.run([str(BIN), "kin", "岳父"], check=True, capture_output=True, text=True)
    assert "近姻亲" in kin.stdout


def test_scan_validate_and_sample_print_json(tmp_path: Path) -> None:
    scanned = runner.invoke(
        app, ["scan", str(FIXTURES / "cases" / "over_cap"), "--out", str(tmp_path / "o"), "--json"]
    )
    assert scanned.exit_code == 0, scanned.output
    summary = json.loads(scanned.output)
    assert summary["counts"]["by_rule"]["over_cap"] == 2 and len(summary["dataset_sha256"]) == 64
    assert {p["key"] for p in summary["provisions_not_checked"]} >= {"timeline.filing"}
    valid = runner.invoke(app, ["validate", str(DEMO), "--json"])
    assert valid.exit_code == 0 and json.loads(valid.output)["ok"] is True
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "staff.csv").write_text("人员编号,姓名\nS1,王\n", encoding="utf-8")
    (bad / "projects.csv").write_text(
        "项目编号,项目名称,项目类别,金额\nP1,x,工程类,十万\n", encoding="utf-8"
    )
    invalid = runner.invoke(app, ["validate", str(bad), "--json"])
    errors = json.loads(invalid.output)["errors"]
    assert invalid.exit_code == 1 and errors[0]["row"] == 2 and errors[0]["column"] == "金额"
    drawn = runner.invoke(
        app, ["sample", str(DEMO), "--seed", "3", "--out", str(tmp_path / "s"), "--json"]
    )
    sample = json.loads(drawn.output)
    assert sample["seed"] == 3 and sample["provenance"]["policy"] == "longgang-2023"


def test_output_to_a_file_is_not_wrapped_at_80_columns(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run(
        [str(BIN), "scan", str(FIXTURES / "cases" / "over_cap"), "--out", str(tmp_path / "o")],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    lines = out.splitlines()
    at = next(i for i, x in enumerate(lines) if "（timeline.filing）" in x)
    reason = lines[at + 1].strip()  # over 80 columns wide, on one line
    assert (
        reason
        == "缺少列 / missing columns: 项目台账.审定日期（approved_date）、项目台账.备案日期（filing_date）"
    )
    assert sum(2 if ord(c) > 0x2E80 else 1 for c in reason) > 80


def _validate(tmp_path: Path, staff: str) -> tuple[int, str]:
    folder = tmp_path / "d"
    folder.mkdir(exist_ok=True)
    (folder / "staff.csv").write_text(staff, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(folder)])
    return result.exit_code, result.output


def test_a_malformed_csv_names_every_problem_row_in_chinese(tmp_path: Path) -> None:
    code, said = _validate(
        tmp_path,
        '人员编号,姓名,街道\nS1,王小明,龙城街道\nS2,李,四,龙城街道\nS3,"张三"x,龙城街道\n'
        "S4,赵六,龙城街道\nS5,钱,七,龙城街道\n",
    )
    assert code == 1 and "Error tokenizing" not in said
    assert "staff.csv 第3行：有4个字段，多于其余各行的3个" in said
    assert "staff.csv 第4行：引号有误" in said
    assert "staff.csv 第6行：有4个字段" in said  # every problem, not the first


def test_a_quote_left_open_never_merges_rows_silently(tmp_path: Path) -> None:
    code, said = _validate(
        tmp_path,
        '人员编号,姓名,街道\nS1,王小明,龙城街道\nS2,"李四,龙城街道\nS3,张三,龙城街道\n'
        'S4,赵六",龙城街道\nS5,钱七,龙城街道\n',
    )
    assert code == 1 and "第3行的引号把第4–5行并入了同一格" in said
    # a line break inside a properly quoted cell is data, not an error
    code, said = _validate(
        tmp_path, '人员编号,姓名,街道\nS1,"王\n小明",龙城街道\nS2,李四,龙城街道\n'
    )
    assert code == 0, said


def test_an_optional_field_written_twice_is_read_once_and_kept(tmp_path: Path) -> None:
    """备注 and 说明 both name remarks: the first is read, the other kept, a warning says so
    (a ledger with both used to be refused)."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "staff.csv").write_text("人员编号,姓名\nS1,王\n", encoding="utf-8")
    (folder / "projects.csv").write_text(
        "项目编号,项目名称,项目类别,金额,备注,说明\nP1,x,工程类,1000,a,b\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["validate", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert [w["code"] for w in summary["warning_list"]] == ["duplicate_optional_column"]
