"""The commission's and the audit bureau's round trip, on SQLite and on PostgreSQL: upload,
screen, list, triage with history, re-run without duplicates, export the referral list."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook

from tests.api.conftest import COMMISSION_STREET, Api
from tests.conftest import DEMO


def _demo_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("files", (p.name, p.read_bytes(), "application/octet-stream"))
        for p in sorted(DEMO.iterdir())
        if p.suffix in (".csv", ".xlsx")
    ]


def test_upload_screen_triage_rerun_export(api: Api) -> None:
    up = api.post("/datasets", role="auditor", files=_demo_files(), data={"name": "龙岗 2024"})
    assert up.status_code == 201, up.text
    dataset = up.json()
    assert dataset["created"] is True and dataset["rows"] > 1000
    again = api.post("/datasets", role="auditor", files=_demo_files())
    assert again.status_code == 200 and again.json()["id"] == dataset["id"]  # same files

    started = api.post(
        "/screenings", role="auditor", json={"dataset_id": dataset["id"], "policy": "longgang-2023"}
    )
    assert started.status_code == 202 and started.headers["location"].startswith("/screenings/")
    first = api.wait(started.json()["id"])
    assert first["status"] == "done", first
    assert first["progress"] == "完成 / done"
    assert set(first["run"]["stages_seconds"]) >= {"load", "kinship", "rules"}
    # every provision of the profile with its status, shown with the screening
    provisions = {p["key"]: p for p in first["provisions"]}
    assert provisions["works_share.min_ratio"]["status"] == "checked"
    assert provisions["works_share.min_ratio"]["rule"] == "works_share"
    assert provisions["funds.misuse"]["status"] == "not_checked"
    assert provisions["funds.misuse"]["reason"]
    assert {p["status"] for p in first["provisions"]} <= {
        "checked",
        "not_checked",
        "not_applicable",
    }
    page = api.get("/findings", params={"limit": 500}).json()
    assert page["total"] == first["findings"] > 20
    ids = sorted(item["finding_id"] for item in page["items"])

    # a commission triages one of its findings
    mine = api.get("/findings", role="commission", params={"rule": "avoidance"}).json()["items"]
    assert mine and all(i["street"] == COMMISSION_STREET for i in mine)
    fid = mine[0]["finding_id"]
    no_reason = api.post(f"/findings/{fid}/status", role="commission", json={"status": "confirmed"})
    assert no_reason.status_code == 422
    assert no_reason.headers["content-type"].startswith("application/problem+json")
    ok = api.post(
        f"/findings/{fid}/status",
        role="commission",
        json={"status": "confirmed", "reason": "经核实，堂弟关系属实"},
    )
    assert ok.status_code == 200 and ok.json()["status"] == "confirmed"
    bad_move = api.post(
        f"/findings/{fid}/status", role="commission", json={"status": "new", "reason": "撤回"}
    )
    assert bad_move.status_code == 409
    referred = api.post(
        f"/findings/{fid}/status",
        role="commission",
        json={"status": "referred", "reason": "移送区纪委监委"},
    )
    assert referred.status_code == 200
    history = api.get(f"/findings/{fid}/history", role="commission").json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("new", "confirmed"),
        ("confirmed", "referred"),
    ]
    assert (
        history[0]["reason"] == "经核实，堂弟关系属实" and history[0]["actor"] == "坂田街道纪工委"
    )

    # the same inputs again: the same finding ids, nothing duplicated, the triage kept
    rerun = api.post(
        "/screenings", role="auditor", json={"dataset_id": dataset["id"], "policy": "longgang-2023"}
    )
    second = api.wait(rerun.json()["id"])
    assert second["status"] == "done" and second["findings"] == first["findings"]
    page2 = api.get("/findings", params={"limit": 500}).json()
    assert page2["total"] == page["total"]
    assert sorted(i["finding_id"] for i in page2["items"]) == ids
    assert api.get(f"/findings/{fid}").json()["status"] == "referred"
    by_run = api.get("/findings", params={"screening_id": second["id"], "limit": 1}).json()
    assert by_run["total"] == first["findings"]

    # the referral list, one sheet per street, Chinese headers
    export = api.get("/exports/referrals.xlsx", role="commission")
    assert export.status_code == 200
    wb = load_workbook(io.BytesIO(export.content))
    assert wb.sheetnames == [COMMISSION_STREET]
    ws = wb[COMMISSION_STREET]
    assert ws["A1"].value.startswith("问题线索移送清单")
    headers = [c.value for c in ws[2]]
    assert "依据" in headers and "证据（逐条注明来源）" in headers and "关系路径" in headers
    assert "最近处理意见" in headers
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert [r[0] for r in rows] == [fid]
    assert rows[0][headers.index("最近处理意见")] == "移送区纪委监委"

    listing = api.get("/exports/off-catalogue.xlsx", role="auditor")
    wb = load_workbook(io.BytesIO(listing.content))
    assert len(wb.sheetnames) >= 2  # the auditor sees every street
    assert "统一社会信用代码" in "".join(str(c.value) for c in wb.worksheets[0][2])


def test_zip_and_workbook_uploads(api: Api, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(DEMO.iterdir()):
            zf.write(p, f"龙岗/{p.name}")
    up = api.post("/datasets", files=[("files", ("龙岗.zip", buf.getvalue(), "application/zip"))])
    assert up.status_code == 201, up.text
    assert {f["table"] for f in up.json()["files"]} >= {"staff", "projects", "suppliers"}

    wb = Workbook()
    ws = wb.active
    ws.title = "公职人员"
    lines = (DEMO / "公职人员.csv").read_bytes().decode("gbk").splitlines()
    for line in lines[:50]:
        ws.append(line.split(","))
    out = io.BytesIO()
    wb.save(out)
    book = api.post(
        "/datasets", files=[("files", ("台账.xlsx", out.getvalue(), "application/octet-stream"))]
    )
    assert book.status_code == 201, book.text
    assert book.json()["files"][0]["table"] == "staff"
    assert book.json()["rows"] == 49


def test_bad_upload_is_a_problem_naming_file_row_and_column(api: Api) -> None:
    lines = (DEMO / "公职人员.csv").read_bytes().decode("gbk").splitlines()
    cells = lines[5].split(",")
    cells[3] = "不详"
    data = ("\n".join([*lines[:5], ",".join(cells)]) + "\n").encode("gbk")
    r = api.post("/datasets", files=[("files", ("公职人员.csv", data, "text/csv"))])
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 422 and body["type"] == "urn:integrity:problem:invalid-dataset"
    error = body["errors"][0]
    assert (error["file"], error["row"], error["column"]) == ("公职人员.csv", 6, "出生日期")
    assert error["where_zh"] == "公职人员.csv 第6行 「出生日期」列"
    assert api.get("/datasets").json() == []  # all or nothing

    wrong = api.post("/datasets", files=[("files", ("notes.txt", b"x", "text/plain"))])
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["file"] == "notes.txt"
