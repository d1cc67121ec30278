"""Parquet files in a dataset folder (a platform's export): read as a worksheet is, so a
district's tables in Parquet, with their own types (dates, numbers, booleans), load as the
same tables and give the same findings as its CSV files."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from integrity.errors import DatasetError
from integrity.load.dataset import Dataset, load_dataset
from integrity.scan import run_scan
from tests.conftest import DEMO

if __import__("importlib").util.find_spec("pyarrow") is None:  # pragma: no cover - CI has it
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI must provide pyarrow (the spark extra)")
    pytest.skip(
        "PARQUET INPUT IS NOT TESTED HERE: pyarrow missing (pip install -e '.[spark]')",
        allow_module_level=True,
    )

# columns given their own Parquet types, as a platform's export would hold them
TYPED = {
    "公职人员.csv": {"出生日期": "date"},
    "询价比价记录.csv": {"报价金额": "float", "是否中选": "bool"},
    "社区信息.csv": {"年度": "int", "常住户数": "int"},
}


def _read(path: Path) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
        except UnicodeDecodeError:
            continue
    raise AssertionError(path)


def _typed(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    frame = frame.replace("", None)
    for column, kind in types.items():
        text = frame[column]
        if kind == "date":
            dates = text.str.replace(r"(\d+)年(\d+)月(\d+)日", r"\1/\2/\3", regex=True)
            frame[column] = pd.to_datetime(dates, format="%Y/%m/%d").dt.date
        elif kind == "float":  # the export's "562,200.00" is a number there
            frame[column] = pd.to_numeric(text.str.replace(",", "")).astype("float64")
        elif kind == "int":
            frame[column] = pd.to_numeric(text).astype("Int64")
        else:
            frame[column] = text.map({"是": True, "否": False, None: None})
    return frame


@pytest.fixture(scope="module")
def as_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with every CSV file written as Parquet (workbooks kept)."""
    root = tmp_path_factory.mktemp("parquet") / "longgang"
    root.mkdir()
    for file in DEMO.iterdir():
        if file.suffix == ".csv":
            frame = _typed(_read(file), TYPED.get(file.name, {}))
            frame.to_parquet(root / f"{file.stem}.parquet", index=False)
        else:
            shutil.copy(file, root / file.name)
    return root


def _data(ds: Dataset, table: str) -> pd.DataFrame:
    return ds.table(table).drop(columns=["_file"]).reset_index(drop=True)


def test_the_tables_load_as_from_the_csv_files(as_parquet: Path) -> None:
    want, got = load_dataset(DEMO), load_dataset(as_parquet)
    assert sorted(s.table for s in got.sources) == sorted(s.table for s in want.sources)
    assert any(s.file.endswith(".parquet") for s in got.sources)
    for source in want.sources:
        pd.testing.assert_frame_equal(_data(got, source.table), _data(want, source.table))
    assert got.warning_total == want.warning_total


def test_the_findings_are_the_csv_files_findings(as_parquet: Path) -> None:
    def judged(path: Path) -> list[tuple[str, str, float]]:
        result = run_scan(path, policy="longgang-2023")
        return sorted((f.rule, f.finding_id, f.confidence) for f in result.findings)

    assert judged(as_parquet) == judged(DEMO)


def test_a_damaged_parquet_file_is_an_error_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    shutil.copytree(DEMO, root)
    (root / "公职人员.csv").unlink()
    (root / "公职人员.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DatasetError) as caught:
        load_dataset(root)
    text = str(caught.value)
    assert "公职人员.parquet" in text and "Parquet" in text and "无法读取" in text


def test_without_pyarrow_the_error_says_what_to_install(
    as_parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails
    with pytest.raises(DatasetError) as caught:
        load_dataset(as_parquet)
    assert "pip install 'integrity[spark]'" in str(caught.value)


def test_a_zoned_timestamp_is_read_as_chinas_date_not_utcs(tmp_path: Path) -> None:
    """Spark writes timestamps in UTC: midnight of 1 March in Shenzhen is 29 February 16:00 UTC."""
    root = tmp_path / "ds"
    shutil.copytree(DEMO, root)
    staff = _typed(_read(root / "公职人员.csv"), {})
    local = pd.Timestamp("1980-03-01", tz="Asia/Shanghai")
    staff["出生日期"] = pd.Series([local.tz_convert("UTC")] * len(staff))
    (root / "公职人员.csv").unlink()
    staff.to_parquet(root / "公职人员.parquet", index=False)
    born = load_dataset(root).table("staff")["birth_date"]
    assert {pd.Timestamp(d).date() for d in born} == {local.date()}


def test_a_parquet_file_without_rows_is_an_empty_table(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    shutil.copytree(DEMO, root)
    quotes = _read(root / "询价比价记录.csv").iloc[0:0]
    (root / "询价比价记录.csv").unlink()
    quotes.to_parquet(root / "询价比价记录.parquet", index=False)
    ds = load_dataset(root)
    assert ds.has("quotes") and len(ds.table("quotes")) == 0
