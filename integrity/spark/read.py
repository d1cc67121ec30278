"""A registry's person-role records (the supplier_people table) read by Spark: CSV or Parquet
files in a folder or at an object-store URL Spark reads (``s3a://``, ``hdfs://``), too many
rows for one process.

Every cell is typed and checked by the default loader's own code
(:class:`integrity.load.table.TableLoader`), batch by batch on Spark's workers, and every row
is keyed by the default engine's functions (:mod:`integrity.identity.keys`): the same headers
(Chinese or English, per file), the same row numbers (the header is row 1), the same
validity of ID numbers and USCCs, the same keys. Rows the dataset needs come back to the
driver as their cells were written and are typed there again by the same loader, so the
driver's frame is the one the default engine would have read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from integrity.errors import DatasetError, InputIssue
from integrity.identity.keys import org_keys, person_keys
from integrity.identity.names import org_names, person_names
from integrity.load.readers import RawTable, decode_bytes
from integrity.load.table import Issues, Source, TableLoader

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TABLE = "supplier_people"
SUFFIXES = (".csv", ".parquet")
HEAD_BYTES = 1 << 16
# the keyed columns each registry row carries on Spark (beside its cells c0, c1, ...)
KEYED_SCHEMA = (
    "_file string, _row long, _error boolean, person_key string, org_key0 string, "
    "org_written string, org_core string, uscc_valid boolean, supplier_name string, "
    "name string, name_norm string, id_number string, id_valid boolean, role string, "
    "_warnings string"
)


class EveryIssue(Issues):
    """Issues listed one by one however many of a kind (a batch's warnings, by row)."""

    def add(self, issue: InputIssue) -> None:
        self.items.append(issue)


@dataclass(frozen=True)
class RegistryFile:
    uri: str
    display: str  # the file's name, as the default loader names a file in issues and evidence
    kind: str  # csv or parquet
    headers: tuple[str, ...]
    encoding: str | None


def list_files(spark: SparkSession, location: str) -> list[tuple[str, str]]:
    """(uri, display) of the CSV and Parquet files at ``location`` (a file, a folder or a
    glob; a local path or a URL Spark's file systems read), in name order."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    uri = location if "://" in location else Path(location).resolve().as_uri()
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(conf)
    statuses = fs.globStatus(path) or []
    found: list[tuple[str, str]] = []
    for status in statuses:
        # a folder's files, its sub-folders' too (Spark writes its parts into one)
        files = fs.listFiles(status.getPath(), True)
        while files.hasNext():
            item = files.next()
            name = item.getPath().getName()
            if name.lower().endswith(SUFFIXES) and not name.startswith(("_", ".")):
                found.append((item.getPath().toString(), name))
    if not found:
        raise DatasetError(
            [
                InputIssue(
                    "error",
                    "registry_empty",
                    location,
                    "登记库位置下没有 CSV 或 Parquet 文件",
                    "no CSV or Parquet file at the registry's location",
                    table=TABLE,
                )
            ]
        )
    return sorted(found, key=lambda f: f[0])


def _head(spark: SparkSession, uri: str) -> bytes:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(uri)
    stream = path.getFileSystem(conf).open(path)
    try:
        # a byte[] returned is copied into Python bytes (one passed in would be a copy too)
        return bytes(stream.readNBytes(HEAD_BYTES))
    finally:
        stream.close()


def sha256(spark: SparkSession, uri: str) -> str:
    """The SHA-256 of a registry file's bytes, as run.json records every input's, read
    through the file system Spark reads it from (a local path, HDFS, an object store): the
    bytes stay in the JVM, a megabyte a call."""
    jvm = spark.sparkContext._jvm
    gateway = spark.sparkContext._gateway
    assert jvm is not None and gateway is not None
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(uri)
    digest = jvm.java.security.MessageDigest.getInstance("SHA-256")
    stream = jvm.java.security.DigestInputStream(path.getFileSystem(conf).open(path), digest)
    buffer = gateway.new_array(jvm.byte, 1 << 20)
    try:
        while stream.read(buffer) != -1:
            pass
    finally:
        stream.close()
    return bytes(digest.digest()).hex()


def spark_charset(encoding: str) -> str:
    """The Java charset Spark reads a file in, from the encoding the default reader found."""
    name = encoding.lower().replace("_", "-")
    if name.startswith("utf-8"):
        return "UTF-8"
    if name.startswith("utf-16"):
        return "UTF-16"
    return "GB18030"


def read_raw(
    spark: SparkSession, files: list[tuple[str, str]]
) -> tuple[DataFrame, dict[str, RegistryFile]]:
    """The files' cells as strings (``c0`` ...), with ``_file`` (display name) and ``_row``
    (the row number, the header being row 1); rows with no filled cell left out."""
    from pyspark.sql import functions as F  # noqa: PLC0415, N812

    # GB18030 (the default reader's second encoding) is a Java charset Spark 4 reads only
    # when told to
    spark.conf.set("spark.sql.legacy.javaCharsets", "true")
    frames: list[tuple[DataFrame, int]] = []
    meta: dict[str, RegistryFile] = {}
    for uri, name in files:
        # a file is named as the default loader names it (its name), or by more of its path
        # where two files of the registry share a name
        display = name if name not in meta else uri.rsplit("/", 2)[-2] + "/" + name
        if uri.lower().endswith(".parquet"):
            df = spark.read.parquet(uri)
            headers = [str(c) for c in df.columns]
            df = df.select([F.col(f"`{c}`").cast("string") for c in df.columns])
            first_row, encoding, kind = 2, None, "parquet"
            numbered = _numbered(spark, df, first_row)
        else:
            head = _head(spark, uri)
            cut = head[: head.rfind(b"\n") + 1] or head
            encoding = decode_bytes(cut, display).encoding
            reader = spark.read.option("header", False)
            df = reader.option("encoding", spark_charset(encoding)).csv(uri)
            first = df.first()
            headers = [str(v or "").replace("\ufeff", "").strip() for v in (first or [])]
            numbered = _numbered(spark, df, 1)
            numbered = numbered.filter(F.col("_row") > 1)
            kind = "csv"
        width = len(headers)
        renamed = numbered.toDF(*[f"c{i}" for i in range(width)], "_row").withColumn(
            "_file", F.lit(display)
        )
        frames.append((renamed, width))
        meta[display] = RegistryFile(uri, display, kind, tuple(headers), encoding)
        header_map(meta[display])
    widest = max(w for _, w in frames)
    cells = [f"c{i}" for i in range(widest)]
    padded = [
        df.select(
            *[
                F.col(c) if i < w else F.lit(None).cast("string").alias(c)
                for i, c in enumerate(cells)
            ],
            "_file",
            "_row",
        )
        for df, w in frames
    ]
    raw = padded[0]
    for more in padded[1:]:
        raw = raw.unionByName(more)
    filled = F.length(F.trim(F.concat_ws("", *[F.col(c) for c in cells])))
    return raw.filter(filled > 0), meta


def _numbered(spark: SparkSession, df: DataFrame, first_row: int) -> DataFrame:
    """``df`` (one file) with ``_row``: its place in the file. A file's splits are read in
    order, one partition after another, so a row's place is the rows of the partitions
    before its own plus its place in its partition (counted in the JVM: no row goes
    through Python)."""
    from pyspark.sql import functions as F  # noqa: PLC0415, N812

    part = F.spark_partition_id()
    counts = {int(r["p"]): int(r["count"]) for r in df.groupBy(part.alias("p")).count().collect()}
    offsets, total = {}, 0
    for p in sorted(counts):
        offsets[p] = total
        total += counts[p]
    start = F.create_map(*[x for p, o in offsets.items() for x in (F.lit(p), F.lit(o))])
    within = F.monotonically_increasing_id().bitwiseAND(F.lit((1 << 33) - 1))
    if not offsets:
        return df.withColumn("_row", F.lit(None).cast("long"))
    return df.withColumn("_row", start[part] + within + F.lit(first_row))


def header_map(file: RegistryFile) -> dict[str, str]:
    """The file's header as the default loader maps it (header -> contract column, "" for a
    kept extra, as run.json records it): a missing required column stops the run before
    Spark reads a row (DatasetError names the file and the column)."""
    raw = RawTable(list(file.headers), pd.DataFrame(columns=range(len(file.headers))), 1)
    loader = TableLoader(Source(TABLE, Path(file.display), None, file.display), raw, Issues())
    mapped = {header: name for name, (_, header, _) in loader.mapped.items()}
    return dict.fromkeys(file.headers, "") | mapped


def typed(
    raw: pd.DataFrame, meta: dict[str, RegistryFile], issues: Issues | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Cells (``c0`` ..., ``_file``, ``_row``) typed by the default loader, file by file:
    the typed frame (indexed by row number, as the loader's) and its rows with an error."""
    frames: list[pd.DataFrame] = []
    errors: list[pd.Series] = []
    for display, part in raw.groupby("_file", sort=False):
        file = meta[str(display)]
        frame = part[[f"c{i}" for i in range(len(file.headers))]].astype(object)
        frame = frame.where(frame.notna(), "")
        frame.columns = pd.RangeIndex(len(file.headers))
        frame.index = pd.Index(part["_row"].astype(int).to_numpy())
        loaded, row_error, _ = TableLoader(
            Source(TABLE, Path(file.display), None, file.display),
            RawTable(list(file.headers), frame, 1),
            issues if issues is not None else Issues(),
        ).load()
        frames.append(loaded)
        errors.append(row_error)
    if not frames:
        return pd.DataFrame(), pd.Series(dtype=bool)
    return pd.concat(frames), pd.concat(errors)


def keyed_batches(
    batches: Iterator[pd.DataFrame], meta: dict[str, RegistryFile]
) -> Iterator[pd.DataFrame]:
    """mapInPandas: each batch of cells typed and keyed (KEYED_SCHEMA)."""
    for batch in batches:
        issues = EveryIssue()
        frame, error = typed(batch, meta, issues)
        if frame.empty:
            continue
        out = keyed_columns(frame, error)
        # each row's warnings as code|column;…: counted on Spark for the rows the dataset
        # does not hold (their kinds and numbers, and the first row of each)
        by_row: dict[tuple[str, int], list[str]] = {}
        for i in issues.items:
            if i.level == "warning" and i.row is not None:
                by_row.setdefault((i.file, i.row), []).append(f"{i.code}|{i.column or ''}")
        out["_warnings"] = [
            ";".join(by_row.get((f, int(r)), []))
            for f, r in zip(out["_file"], out["_row"], strict=True)
        ]
        yield out


def keyed_columns(frame: pd.DataFrame, error: pd.Series) -> pd.DataFrame:
    """The keys of typed rows, as the default engine gives them before an organisation
    written without a valid USCC takes one its name carries elsewhere."""

    def text(col: str) -> pd.Series:
        if col not in frame:
            return pd.Series(None, index=frame.index, dtype=object)
        values = frame[col].astype(object)
        return values.where(values.notna(), None)

    supplier = text("supplier_name")
    named = supplier.dropna()
    written, core = org_names([str(v) for v in named])
    names = text("name")
    _, comparable = person_names([str(v) for v in names.fillna("")])
    valid_id = frame.get("id_number_valid", pd.Series(False, index=frame.index)).fillna(False)
    valid_uscc = frame.get("uscc_valid", pd.Series(False, index=frame.index)).fillna(False)
    return pd.DataFrame(
        {
            "_file": frame["_file"].astype(str).to_numpy(),
            "_row": frame["_row"].astype("int64").to_numpy(),
            "_error": error.reindex(frame.index).fillna(False).astype(bool).to_numpy(),
            "person_key": person_keys(frame, "id_number", "name").astype(object).to_numpy(),
            "org_key0": org_keys(frame).astype(object).to_numpy(),
            "org_written": pd.Series(written, index=named.index).reindex(frame.index).to_numpy(),
            "org_core": pd.Series(core, index=named.index).reindex(frame.index).to_numpy(),
            "uscc_valid": valid_uscc.astype(bool).to_numpy(),
            "supplier_name": supplier.to_numpy(),
            "name": names.to_numpy(),
            "name_norm": [
                c if n is not None else None for c, n in zip(comparable, names, strict=True)
            ],
            "id_number": text("id_number").to_numpy(),
            "id_valid": valid_id.astype(bool).to_numpy(),
            "role": text("role").to_numpy(),
        }
    )


def keyed(raw: DataFrame, meta: dict[str, RegistryFile]) -> DataFrame:
    """Every registry row typed and keyed on Spark's workers (KEYED_SCHEMA)."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return keyed_batches(batches, meta)

    return raw.mapInPandas(run, KEYED_SCHEMA)


def collect_typed(
    rows: DataFrame,
    meta: dict[str, RegistryFile],
    issues: Issues,
    keep: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Registry rows (their cells) brought to the driver and typed by the default loader,
    in the registry's order (file, row), as the default engine would have read them;
    ``keep``: columns of ``rows`` besides the cells to carry over, and their new names."""
    keep = keep or {}
    raw = rows.toPandas()
    if raw.empty:
        return pd.DataFrame()
    order = {name: i for i, name in enumerate(meta)}
    raw = raw.assign(_order=raw["_file"].map(order)).sort_values(["_order", "_row"])
    frame, _ = typed(raw.drop(columns=["_order", *keep]), meta, issues)
    kept = frame[["_file", "_row"]].merge(raw[["_file", "_row", *keep]], how="left")
    for column, name in keep.items():
        frame[name] = kept[column].to_numpy()
    return frame
