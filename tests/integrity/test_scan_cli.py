"""The scan command as a user runs it: files written, summary printed, failures leave no trace."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from integrity.cli import app
from integrity.documents.output import OUTPUT_FILES
from tests.conftest import DEMO, FIXTURES, STAFF_HEADER, STAFF_ROWS, WriteCsv

runner = CliRunner(env={"COLUMNS": "200"})


def scan(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", *args])
    return result.exit_code, result.output


def test_scan_writes_the_four_files_and_a_chinese_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = scan(str(FIXTURES / "cases" / "over_cap"), "--out", str(out))
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert "按规则与严重程度" in output and "超过单项资金上限" in output and "龙城街道" in output
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert {f["project_ids"][0] for f in findings if f["rule"] == "over_cap"} == {"P02", "P03"}
    for f in findings:
        assert {
            "finding_id",
            "rule",
            "severity",
            "confidence",
            "project_ids",
            "staff_ids",
            "suppliers",
            "citation",
            "explanation",
            "evidence",
        } <= f.keys()
    csv_text = (out / "findings.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("finding_id,rule,severity,confidence")
    assert "projects.csv 第3行" in csv_text


def test_run_json_records_inputs_rules_counts_and_time(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert scan(str(FIXTURES / "cases" / "over_cap"), "--out", str(out), "--quiet")[0] == 0
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["policy"]["name"] == "longgang-2023"
    inputs = {i["table"]: i for i in run["inputs"]}
    assert inputs["projects"]["rows"] == 6 and len(inputs["projects"]["sha256"]) == 64
    rules = {r["rule"]: r for r in run["rules"]}
    assert rules["over_cap"] == {
        "rule": "over_cap",
        "title": "超过单项资金上限",
        "status": "run",
        "reason": "",
        "findings": 2,
        "seconds": rules["over_cap"]["seconds"],
        "notes": [],
    }
    assert rules["avoidance"]["status"] == "not_run"
    assert "participants" in rules["avoidance"]["reason"]
    assert run["counts"]["by_rule_severity"]["over_cap"] == {"high": 2, "medium": 0, "low": 0}
    assert set(run["stages_seconds"]) == {
        "load",
        "identity",
        "resolve",
        "kinship",
        "roles",
        "rules",
        "write",
    }
    alone = tmp_path / "alone"
    assert (
        scan(
            str(FIXTURES / "cases" / "over_cap"),
            "--out",
            str(alone),
            "--rules",
            "over_cap",
            "--quiet",
        )[0]
        == 0
    )
    run = json.loads((alone / "run.json").read_text(encoding="utf-8"))
    assert set(run["stages_seconds"]) == {"load", "rules", "write"}  # no identities needed
    assert run["duration_seconds"] > 0


def test_not_run_rules_are_reported_with_the_reason(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = scan(
        str(FIXTURES / "cases" / "over_cap"), "--policy", "shenyang-2023", "--out", str(out)
    )
    assert code == 0
    assert "未运行的规则" in output and "未规定单项资金上限" in output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {r["rule"]: r for r in run["rules"]}["over_cap"]["status"] == "not_run"


def test_a_rule_without_its_table_is_not_run(write_csv: WriteCsv, tmp_path: Path) -> None:
    root = write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    out = tmp_path / "out"
    assert scan(str(root), "--out", str(out), "--quiet")[0] == 0
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {r["rule"]: r for r in run["rules"]}["over_cap"][
        "status"
    ] == "not_run" and "projects" in run["rules"][0]["reason"]


def test_same_inputs_same_findings_and_ids(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert scan(str(DEMO), "--out", str(tmp_path / name), "--quiet")[0] == 0
    a, b = (json.loads((tmp_path / n / "findings.json").read_text(encoding="utf-8")) for n in "ab")
    assert a == b and a


RIC = re.compile(r"(?<![0-9])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{5}[0-9Xx](?![0-9])")


def _texts(out: Path) -> dict[str, str]:
    """Every output file's text (each workbook's cells joined)."""
    texts = {}
    for f in sorted(out.iterdir()):
        if f.suffix == ".xlsx":
            cells = [
                str(c)
                for sheet in load_workbook(f, read_only=True)
                for row in sheet.iter_rows(values_only=True)
                for c in row
                if c is not None
            ]
            texts[f.name] = "\n".join(cells)
        else:
            texts[f.name] = f.read_text(encoding="utf-8-sig")
    return texts


def test_output_files_mask_id_numbers_unless_an_admin_asks(tmp_path: Path) -> None:
    case = FIXTURES / "cases" / "related_supplier"
    assert scan(str(case), "--out", str(tmp_path / "m"), "--quiet")[0] == 0
    masked = _texts(tmp_path / "m")
    assert len(masked) >= 5  # the four files and the recusal notice
    assert {name: RIC.findall(t) for name, t in masked.items() if RIC.search(t)} == {}
    assert re.search(r"\d{4}\*{10}\d{3}[0-9X]", masked["findings.json"])
    assert '"id_numbers": "masked"' in masked["run.json"]
    args = ("--out", str(tmp_path / "s"), "--quiet", "--show-id-numbers")
    assert scan(str(case), *args)[0] == 0
    shown = _texts(tmp_path / "s")
    assert RIC.search(shown["findings.json"]) and '"id_numbers": "shown"' in shown["run.json"]
    # the same findings, ids and confidences: only the numbers' spelling differs
    a, b = ({f["finding_id"]: f["confidence"] for f in read_findings(tmp_path / d)} for d in "ms")
    assert a == b and a


def read_findings(out: Path) -> list[dict[str, object]]:
    return json.loads((out / "findings.json").read_text(encoding="utf-8"))


def test_failed_run_writes_nothing_and_keeps_earlier_results(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert scan(str(FIXTURES / "cases" / "over_cap"), "--out", str(out), "--quiet")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    bad = write_csv(
        "projects.csv",
        ["项目编号", "项目名称", "项目类别", "金额"],
        [["P1", "x", "工程类", "十万"]],
    )
    code, output = scan(str(bad), "--out", str(out))
    assert code == 1
    assert "projects.csv 第2行 「金额」列" in output and "row 2, column 金额" in output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_lenient_run_lists_skipped_rows(write_csv: WriteCsv, tmp_path: Path) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "projects.csv",
        ["项目编号", "项目名称", "项目类别", "金额"],
        [["P1", "x", "工程类", "十万"], ["P2", "y", "服务类", "600000"]],
    )
    out = tmp_path / "out"
    code, output = scan(str(root), "--out", str(out), "--lenient")
    assert code == 0 and "跳过有错误的行 1 行" in output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["skipped_rows"]["counts"] == {"projects": 1}
    assert run["skipped_rows"]["errors"][0]["row"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "futian-2099"], "unknown policy profile"),
        (["--rules", "over_cap,nonsense"], "unknown rule"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, output = scan(str(FIXTURES / "cases" / "over_cap"), "--out", str(tmp_path / "o"), *args)
    assert code == 2 and message in output
    assert not (tmp_path / "o").exists()


def test_missing_dataset_exits_1(tmp_path: Path) -> None:
    code, output = scan(str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"))
    assert code == 1 and "dataset not found" in output


def test_policies_and_rules_commands() -> None:
    result = runner.invoke(app, ["policies"])
    assert result.exit_code == 0
    for name in ("longgang-2023", "haicang-2018", "nanshan-2020", "luohu-2017", "shenyang-2023"):
        assert name in result.output
    assert "（默认）" in result.output
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0 and "over_cap" in result.output and "单项资金上限" in result.output


def test_validate_command(write_csv: WriteCsv) -> None:
    root = write_csv(
        "staff.csv", ["人员编号", "姓名", "身份证号"], [["S1", "甲", "440307199001011233"]]
    )
    result = runner.invoke(app, ["validate", str(root)])
    assert result.exit_code == 0 and "校验位不符" in result.output


def test_a_scan_raises_the_collectors_threshold_and_restores_it() -> None:
    import gc  # noqa: PLC0415

    from integrity.scan import SCAN_GC_THRESHOLD, fewer_collections  # noqa: PLC0415

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == SCAN_GC_THRESHOLD
        with fewer_collections():  # a scan inside a scan (the service's batch path)
            assert gc.get_threshold()[0] == SCAN_GC_THRESHOLD
        assert gc.get_threshold()[0] == SCAN_GC_THRESHOLD
    assert gc.get_threshold() == before


ROSTER_FILES = (
    "family_links.csv",
    "亲属申报.csv",
    "企业关联人员.csv",
    "供应商.csv",
    "公职人员.csv",
)


def test_registry_screen_needs_no_projects(tmp_path: Path) -> None:
    """A roster alone (staff, their families, the suppliers and their people): the recusal
    notice, undeclared_relation not run for want of a ledger, no programme provisions."""
    roster = tmp_path / "roster"
    roster.mkdir()
    for name in ROSTER_FILES:
        shutil.copy(DEMO / name, roster / name)
    out = tmp_path / "out"
    result = runner.invoke(app, ["registry-screen", str(roster), "--out", str(out)])
    assert result.exit_code == 0, result.output
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert findings and {f["rule"] for f in findings} == {"related_supplier"}
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    status = {r["rule"]: (r["status"], r["reason"]) for r in run["rules"]}
    assert set(status) == {"related_supplier", "undeclared_relation"}
    assert status["related_supplier"][0] == "run"
    assert status["undeclared_relation"][0] == "not_run"
    assert "projects" in status["undeclared_relation"][1]
    assert (out / "回避提示表.xlsx").exists()
    assert "条款" not in result.output and "供应商关联回避提示" in result.output


def test_registry_screen_writes_beside_a_scan_not_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its default folder is out/registry: a roster run does not replace a scan's out/; its
    --json summary, like its console one, lists no programme provisions."""
    monkeypatch.chdir(tmp_path)
    assert scan(str(DEMO), "--quiet")[0] == 0
    before = (tmp_path / "out" / "findings.json").read_bytes()
    result = runner.invoke(app, ["registry-screen", str(DEMO), "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "findings.json").read_bytes() == before
    assert (tmp_path / "out" / "registry" / "findings.json").exists()
    summary = json.loads(result.output)
    assert "provisions_not_checked" not in summary and summary["out"] == "out/registry"


def test_registry_screen_is_the_roster_rules_of_a_scan(tmp_path: Path) -> None:
    """With a ledger, the same findings as a scan of the two roster rules."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert (
        runner.invoke(app, ["registry-screen", str(DEMO), "--out", str(a), "--quiet"]).exit_code
        == 0
    )
    code, _ = scan(
        str(DEMO), "--out", str(b), "--quiet", "--rules", "related_supplier,undeclared_relation"
    )
    assert code == 0
    one, two = (json.loads((d / "findings.json").read_text(encoding="utf-8")) for d in (a, b))
    assert one == two and {f["rule"] for f in one} == {"related_supplier", "undeclared_relation"}
