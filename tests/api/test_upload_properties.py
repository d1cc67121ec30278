"""Property tests of the upload path (hypothesis): whatever bytes, zips or encodings a client
sends, the answer is a 4xx problem naming a file, or a stored dataset — never a 5xx, never a
partial dataset on disk or in the database."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Api, open_api
from tests.conftest import DEMO

SUFFIXES = [".csv", ".xlsx", ".zip", ".xlsm", ".txt", ""]
STAFF = (DEMO / "公职人员.csv").read_bytes().decode("gbk")
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "big5", "latin-1", "shift_jis"]
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def service() -> Iterator[Api]:
    folder = Path(tempfile.mkdtemp(prefix="integrity-upload-props-"))
    try:
        yield from open_api(
            folder / "var", f"sqlite:///{folder / 'p.db'}", max_upload_bytes=2 * 1024 * 1024
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _state(api: Api) -> tuple[int, set[str]]:
    stored = {d["id"] for d in api.get("/datasets").json()}
    folder = api.service.settings.datasets_dir
    on_disk = {p.name for p in folder.iterdir()} if folder.exists() else set()
    return len(stored), on_disk


def _send(api: Api, files: list[tuple[str, bytes]]) -> Any:
    before_count, before_disk = _state(api)
    r = api.post(
        "/datasets",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )
    assert r.status_code < 500, r.text[:500]
    after_count, after_disk = _state(api)
    if r.status_code in (200, 201):
        assert r.json()["id"] in after_disk
        assert after_count - before_count == (1 if r.status_code == 201 else 0)
    else:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text[:300]
        body = r.json()
        named = [e.get("file") for e in body.get("errors") or []]
        assert named or r.status_code == 413, body  # each error names its file
        server = str(api.service.settings.data_dir)
        for name in named:
            assert name and ".incoming" not in name and server not in name, body
        assert (after_count, after_disk) == (before_count, before_disk)  # nothing half-written
    return r


names = st.builds(
    lambda stem, suffix: stem + suffix,
    st.sampled_from(["staff", "公职人员", "项目台账", "x", "..", "a b", "供应商"]),
    st.sampled_from(SUFFIXES),
)


@PROPERTY
@given(files=st.lists(st.tuples(names, st.binary(max_size=4096)), min_size=1, max_size=3))
def test_random_bytes_never_break_the_service(service: Api, files: list[tuple[str, bytes]]) -> None:
    _send(service, files)


@st.composite
def zips(draw: st.DrawFn) -> bytes:
    buf = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buf, "w", method) as zf:
        for _ in range(draw(st.integers(0, 4))):
            member = draw(
                st.sampled_from(
                    ["staff.csv", "a/公职人员.csv", "__MACOSX/._x.csv", "../up.csv", "x.xlsx", "d/"]
                )
            )
            data = draw(st.one_of(st.binary(max_size=2048), st.just(STAFF[:2000].encode())))
            if member.endswith("/"):
                zf.writestr(zipfile.ZipInfo(member), b"")
            elif member not in zf.namelist():
                zf.writestr(member, data)
    raw = bytearray(buf.getvalue())
    # damage some archives: flip bytes anywhere
    for at in draw(st.lists(st.integers(0, max(len(raw) - 1, 0)), max_size=3)):
        if raw:
            raw[at] ^= 0xFF
    return bytes(raw)


@PROPERTY
@given(archive=zips())
def test_random_zips_never_break_the_service(service: Api, archive: bytes) -> None:
    _send(service, [("d.zip", archive)])


@PROPERTY
@given(
    encoding=st.sampled_from(ENCODINGS),
    lines=st.integers(2, 40),
    garble=st.lists(st.integers(0, 5000), max_size=3),
)
def test_the_staff_table_in_any_encoding(
    service: Api, encoding: str, lines: int, garble: list[int]
) -> None:
    text = "\n".join(STAFF.splitlines()[:lines]) + "\n"
    data = bytearray(text.encode(encoding, errors="replace"))
    for at in garble:
        if data:
            data[at % len(data)] = 0xFF
    r = _send(service, [("公职人员.csv", bytes(data))])
    if encoding in ("utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16") and not garble:
        assert r.status_code in (200, 201), r.text[:500]
