"""A registry held on Spark (:class:`integrity.screening.registry.Registry`): the person-role
records of a city or a province, read, typed and keyed on Spark's workers
(:mod:`integrity.spark.read`), their holders built organisation by organisation by the
default engine's builder (:func:`integrity.screening.tables.build_holders`), and searched
there for what a screening asks: the rows of the organisations the dataset names, how many
people the others are, and which of their holders meet an official's kin.

An organisation written without a valid USCC takes the one its name carries elsewhere, as
:func:`integrity.identity.keys._name_to_uscc` has it, over the registry's rows and the
dataset's together (the names with one USCC: a join and a count on Spark).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from integrity.errors import DatasetError, InputIssue
from integrity.identity.blocking import deletions
from integrity.identity.keys import ENGINE_ORG_KEY, key_supplier_people, org_keys, uscc_names
from integrity.identity.mentions import NameCounts, pinyin_of
from integrity.identity.names import org_names, person_name, split_surname
from integrity.load.table import Issues
from integrity.screening.registry import RosterCounts
from integrity.screening.tables import build_holders
from integrity.spark.read import (
    TABLE,
    RegistryFile,
    collect_typed,
    keyed,
    list_files,
    read_raw,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# tables whose organisation keys the default engine sets (keys.with_identity_keys)
ORG_TABLES = ("suppliers", "projects", "quotes")
HOLDER_SCHEMA = (
    "org_key string, key string, name_norm string, id_number string, id_valid boolean, "
    "role string, has_birth boolean, has_phone boolean"
)
ROWS_PER_BUCKET = 50_000
ROWS_PER_SHUFFLE = 250_000
ERRORS_SHOWN = 50


@dataclass
class Opened:
    """What opening a registry gives the dataset: its rows of the organisations the dataset
    names (typed by the default loader, keyed), their issues, and the registry's size."""

    rows: pd.DataFrame
    issues: list[Any]
    files: list[RegistryFile]
    read: dict[str, int]  # rows read, by file
    skipped: int  # rows with an error, left out (lenient)
    warnings: int  # rows' warnings in the whole registry


class SparkRegistry:
    name = "spark"

    def __init__(
        self,
        spark: SparkSession,
        rows: DataFrame,
        raw: DataFrame,
        meta: dict[str, RegistryFile],
        local: DataFrame,
    ) -> None:
        self.spark = spark
        self.rows = rows  # keyed (KEYED_SCHEMA with the final org_key)
        self.raw = raw  # the cells
        self.meta = meta
        self.local = local  # org_key of the organisations the dataset holds
        self._holders: DataFrame | None = None
        self._keys: DataFrame | None = None
        # seconds spent in each stage (run.json's stages, registry.*), Spark's lazy work
        # counted where an action runs it
        self.timings: dict[str, float] = {}

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - began
            self.timings[stage] = round(self.timings.get(stage, 0.0) + spent, 4)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls, spark: SparkSession, location: str, tables: dict[str, pd.DataFrame], *, lenient: bool
    ) -> tuple[SparkRegistry, Opened]:
        """Read the registry at ``location`` against the dataset's ``tables`` (typed, without
        supplier_people): errors stop the run as the default loader's do (or, ``lenient``,
        their rows are left out)."""
        from pyspark import StorageLevel  # noqa: PLC0415
        from pyspark.sql import functions as F  # noqa: PLC0415, N812

        began = time.perf_counter()
        files = list_files(spark, location)
        raw, meta = read_raw(spark, files)
        # the registry's frames are kept on disk: kept in memory, they would hold the
        # execution memory every later join and aggregation needs (the kin expansion's too)
        raw = raw.persist(StorageLevel.DISK_ONLY)
        first = keyed(raw, meta).persist(StorageLevel.DISK_ONLY)
        per_file = first.groupBy("_file").agg(
            F.count("*").alias("n"), F.sum(F.col("_error").cast("int")).alias("bad")
        )
        counted = per_file.collect()
        read = {str(r["_file"]): int(r["n"]) for r in counted}
        skipped = sum(int(r["bad"] or 0) for r in counted)
        typed_in = time.perf_counter() - began
        bad = first.filter(F.col("_error"))
        if skipped and not lenient:
            shown = bad.select("_file", "_row").limit(ERRORS_SHOWN)
            issues = Issues()
            collect_typed(raw.join(shown, ["_file", "_row"]), meta, issues)
            raise DatasetError([i for i in issues.items if i.level == "error"])
        if skipped:
            first = first.filter(~F.col("_error"))
        warned, warnings = _warning_counts(first)
        _scale_shuffles(spark, sum(read.values()))
        rows = _with_org_keys(spark, first, tables).persist(StorageLevel.DISK_ONLY)
        local = _local_orgs(spark, rows, tables).persist(StorageLevel.MEMORY_AND_DISK)
        registry = cls(spark, rows, raw, meta, local)
        registry.timings["read_type_key"] = round(typed_in, 4)
        issues = Issues()
        with registry.timed("organisations"):
            held = registry._fetch(local, issues)
            opened = Opened(
                held,
                issues.items + issues.summaries() + warned,
                list(meta.values()),
                read,
                skipped,
                warnings,
            )
        return registry, opened

    def _fetch(self, orgs: DataFrame, issues: Issues | None = None) -> pd.DataFrame:
        """The rows of ``orgs`` (a frame of org_key), typed by the default loader in the
        driver, with the organisation's key as Spark gave it."""
        picked = self.rows.join(orgs, "org_key", "left_semi").select("_file", "_row", "org_key")
        cells = self.raw.join(picked, ["_file", "_row"])
        return collect_typed(cells, self.meta, issues or Issues(), {"org_key": ENGINE_ORG_KEY})

    # ------------------------------------------------------------------ holders
    @property
    def holders(self) -> DataFrame:
        """The holders of the organisations the dataset does not hold (HOLDER_SCHEMA),
        built by the default engine's builder, a few thousand organisations at a time."""
        if self._holders is None:
            from pyspark import StorageLevel  # noqa: PLC0415
            from pyspark.sql import functions as F  # noqa: PLC0415, N812

            others = self.rows.join(self.local, "org_key", "left_anti")
            buckets = max(1, -(-others.count() // ROWS_PER_BUCKET))
            grouped = others.withColumn("_bucket", F.pmod(F.hash("org_key"), F.lit(buckets)))
            self._holders = (
                grouped.groupBy("_bucket")
                .applyInPandas(_bucket_holders, HOLDER_SCHEMA)
                .persist(StorageLevel.DISK_ONLY)
            )
        return self._holders

    @property
    def name_forms(self) -> DataFrame:
        """Each distinct holder name's forms at the name levels (``name_norm``, ``level``,
        ``b``): a few per name, for the names of a population (not per holder)."""
        if self._keys is None:
            from pyspark import StorageLevel  # noqa: PLC0415

            self._keys = (
                self.holders.select("name_norm")
                .distinct()
                .mapInPandas(_name_forms, "name_norm string, level string, b string")
                .persist(StorageLevel.MEMORY_AND_DISK)
            )
        return self._keys

    # ------------------------------------------------------------------ Registry
    def names(self, known: pd.DataFrame) -> NameCounts:
        with self.timed("holders_and_names"):
            return self._names(known)

    def _names(self, known: pd.DataFrame) -> NameCounts:
        from pyspark.sql import functions as F  # noqa: PLC0415, N812

        h = self.holders
        person = F.when(F.col("id_valid"), F.col("key")).otherwise(
            F.concat_ws("|", F.col("org_key"), F.col("name_norm"))
        )
        persons = h.select(person.alias("person"), "name_norm").distinct()
        if len(known):
            seen = self.spark.createDataFrame(
                known[["person", "name_norm"]].astype(str), "person string, name_norm string"
            )
            persons = persons.join(seen, ["person", "name_norm"], "left_anti")
        per_name = persons.groupBy("name_norm").count()
        given = per_name.mapInPandas(_given_names, "given string, count long")
        counts = given.groupBy("given").agg(F.sum("count").alias("n")).toPandas()
        series = pd.Series(counts["n"].to_numpy(), index=counts["given"].to_numpy(), dtype=float)
        return NameCounts(series, int(series.sum()))

    def roster(self, roles: tuple[str, ...], known_ids: pd.Index) -> RosterCounts:
        with self.timed("roster"):
            return self._roster(roles, known_ids)

    def _roster(self, roles: tuple[str, ...], known_ids: pd.Index) -> RosterCounts:
        from pyspark.sql import functions as F  # noqa: PLC0415, N812

        h = self.holders.filter(F.col("role").isin(list(roles)))
        ids = h.filter(F.col("id_valid")).select("id_number").distinct()
        if len(known_ids):
            seen = self.spark.createDataFrame(
                pd.DataFrame({"id_number": known_ids.astype(str)}), "id_number string"
            )
            ids = ids.join(seen, "id_number", "left_anti")
        flags = h.agg(
            F.max(F.col("has_birth").cast("int")).alias("birth"),
            F.max((F.col("has_birth") & ~F.col("id_valid")).cast("int")).alias("birth_no_id"),
            F.max(F.col("has_phone").cast("int")).alias("phone"),
        ).first()
        return RosterCounts(
            ids.count(),
            bool(flags and flags["birth"]),
            bool(flags and flags["birth_no_id"]),
            bool(flags and flags["phone"]),
        )

    def meeting(self, keys: pd.DataFrame, roles: tuple[str, ...], skip: pd.Index) -> pd.DataFrame:
        with self.timed("meeting"):
            return self._meeting(keys, roles, skip)

    def _meeting(self, keys: pd.DataFrame, roles: tuple[str, ...], skip: pd.Index) -> pd.DataFrame:
        from pyspark.sql import functions as F  # noqa: PLC0415, N812

        if keys.empty:
            return pd.DataFrame()
        keys = keys[["level", "b"]].astype(str)
        in_roles = self.holders.filter(F.col("role").isin(list(roles)))
        met = None
        by_key = keys[keys["level"] == "key"]
        if len(by_key):
            wanted = F.broadcast(self.spark.createDataFrame(by_key[["b"]], "b string"))
            met = in_roles.join(wanted, in_roles["key"] == wanted["b"], "left_semi")
        by_name = keys[keys["level"] != "key"]
        if len(by_name):
            # the holders' names that share a form with a relative's, then their holders
            wanted = F.broadcast(self.spark.createDataFrame(by_name, "level string, b string"))
            names = self.name_forms.join(wanted, ["level", "b"], "left_semi").select("name_norm")
            named = in_roles.join(F.broadcast(names.distinct()), "name_norm", "left_semi")
            met = named if met is None else met.unionByName(named)
        if met is None:
            return pd.DataFrame()
        met = met.select("org_key").distinct()
        if len(skip):
            seen = self.spark.createDataFrame(
                pd.DataFrame({"org_key": skip.astype(str)}), "org_key string"
            )
            met = met.join(seen, "org_key", "left_anti")
        rows = self._fetch(met)
        if rows.empty:
            return rows
        key_supplier_people(rows)
        return rows


def _warning_counts(rows: DataFrame) -> tuple[list[InputIssue], int]:
    """One warning per (file, kind, column) over every registry row: how many rows have it
    and the first (the rows the dataset holds are also listed one by one)."""
    from pyspark.sql import functions as F  # noqa: PLC0415, N812

    each = rows.filter(F.col("_warnings") != "").select(
        "_file", "_row", F.explode(F.split("_warnings", ";")).alias("w")
    )
    counts = each.groupBy("_file", "w").agg(F.count("*").alias("n"), F.min("_row").alias("first"))
    found = sorted(counts.collect(), key=lambda r: (r["_file"], r["w"]))
    out = []
    for r in found:
        code, column = str(r["w"]).split("|", 1)
        out.append(
            InputIssue(
                "warning",
                code,
                str(r["_file"]),
                f"登记库中此类问题共 {r['n']} 行（首见于第{r['first']}行）；"
                "数据集所用单位的行已逐条列出",
                f"{r['n']} rows of the registry have it (the first is row {r['first']}); "
                "the rows of the organisations the dataset uses are listed one by one",
                column=column or None,
                table=TABLE,
            )
        )
    return out, int(sum(r["n"] for r in found))


def _scale_shuffles(spark: SparkSession, rows: int) -> None:
    """Shuffle partitions for a registry of ``rows``: about ROWS_PER_SHUFFLE rows each, so that
    no task's aggregation or join outgrows its memory (adaptive execution merges the small
    partitions of the small stages); never fewer than the session's own."""
    now = int(spark.conf.get("spark.sql.shuffle.partitions") or 4)
    spark.conf.set("spark.sql.shuffle.partitions", str(max(now, -(-rows // ROWS_PER_SHUFFLE))))


# ---------------------------------------------------------------------- on the workers
def _bucket_holders(rows: pd.DataFrame) -> pd.DataFrame:
    """applyInPandas: the holders of the organisations in one bucket (HOLDER_SCHEMA)."""
    sp = pd.DataFrame(
        {
            "org_key": rows["org_key"],
            "supplier_name": rows["supplier_name"],
            "person_key": rows["person_key"],
            "name": rows["name"],
            "id_number": rows["id_number"],
            "id_number_valid": rows["id_valid"].astype(bool),
            "role": rows["role"],
            "_file": rows["_file"],
            "_row": rows["_row"],
        }
    )
    h = build_holders({"supplier_people": sp})
    return pd.DataFrame(
        {
            "org_key": h["org_key"].astype(str),
            "key": h["key"].astype(str),
            "name_norm": h["name_norm"].astype(str),
            "id_number": h["id_number"].where(h["id_valid"], None).astype(object),
            "id_valid": h["id_valid"].astype(bool),
            "role": h["role"].astype(str),
            "has_birth": h["birth"].notna().to_numpy(),
            "has_phone": h["phone"].notna().to_numpy(),
        }
    )


def _name_forms(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas: each name's forms at the name levels (the name, its pinyin, its
    one-deletion forms), as the default engine's blocking makes them."""
    for batch in batches:
        names = batch["name_norm"].dropna().astype(str).reset_index(drop=True)
        edits = names.map(deletions).explode().dropna()
        yield pd.concat(
            [
                pd.DataFrame({"name_norm": names, "level": "name", "b": names}),
                pd.DataFrame({"name_norm": names, "level": "pinyin", "b": pinyin_of(names)}),
                pd.DataFrame(
                    {
                        "name_norm": names[edits.index].to_numpy(),
                        "level": "edit",
                        "b": edits.to_numpy(),
                    }
                ),
            ],
            ignore_index=True,
        ).dropna()


def _given_names(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas: (name_norm, count) -> (given name, count)."""
    for batch in batches:
        given = [split_surname(str(n))[1] for n in batch["name_norm"]]
        yield pd.DataFrame({"given": given, "count": batch["count"].astype("int64")})


# ---------------------------------------------------------------------- organisation keys
def _with_org_keys(
    spark: SparkSession, rows: DataFrame, tables: dict[str, pd.DataFrame]
) -> DataFrame:
    """``rows`` with ``org_key``: a row written without a valid USCC takes the one USCC its
    written name (or else its core) carries anywhere, in the registry or the dataset; two
    USCCs for one name, no guess (keys._name_to_uscc)."""
    from pyspark.sql import functions as F  # noqa: PLC0415, N812

    theirs = rows.filter(F.col("uscc_valid") & F.col("org_written").isNotNull()).select(
        F.col("org_written").alias("written"),
        F.concat(F.lit("org:"), F.col("org_core")).alias("core"),
        F.col("org_key0").alias("key"),
    )
    ours = _dataset_pairs(tables)
    pairs = theirs
    if not ours.empty:
        pairs = pairs.unionByName(
            spark.createDataFrame(ours, "written string, core string, key string")
        )
    pairs = pairs.distinct()

    def unique(by: str) -> DataFrame:
        return (
            pairs.groupBy(by)
            .agg(F.countDistinct("key").alias("n"), F.first("key").alias(f"{by}_key"))
            .filter(F.col("n") == 1)
            .drop("n")
        )

    # only the rows written without a valid USCC are joined (most rows carry one)
    bare = F.coalesce(F.col("org_key0").startswith("org:"), F.lit(False))
    joined = (
        rows.filter(bare)
        .join(unique("written"), rows["org_written"] == F.col("written"), "left")
        .join(unique("core"), rows["org_key0"] == F.col("core"), "left")
        .withColumn("org_key", F.coalesce("written_key", "core_key", "org_key0"))
        .drop("written", "core", "written_key", "core_key")
    )
    return rows.filter(~bare).withColumn("org_key", F.col("org_key0")).unionByName(joined)


def _dataset_pairs(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """(written name, org: core, uscc: key) of the dataset's rows with a valid USCC."""
    parts = [
        uscc_names(org_keys(frame), frame["supplier_name"])[["written", "core", "key"]]
        for name in ORG_TABLES
        if (frame := tables.get(name)) is not None and "supplier_name" in frame
    ]
    if not parts:
        return pd.DataFrame(columns=["written", "core", "key"])
    return pd.concat(parts, ignore_index=True).drop_duplicates().astype(str)


def _local_orgs(spark: SparkSession, rows: DataFrame, tables: dict[str, pd.DataFrame]) -> DataFrame:
    """The organisations whose rows the dataset holds (org_key): those its tables name (by
    key, or by a name written without a USCC, whose key the registry may give), and those
    of the people an official without an ID number may be (name and birth date: keys)."""
    from pyspark.sql import functions as F  # noqa: PLC0415, N812

    keys: set[str] = set()
    written: set[str] = set()
    for name in ORG_TABLES:
        frame = tables.get(name)
        if frame is None or "supplier_name" not in frame:
            continue
        found = org_keys(frame).dropna().astype(str)
        keys.update(found)
        bare = found[found.str.startswith("org:")]
        if len(bare):
            names = frame.loc[bare.index, "supplier_name"].dropna()
            written.update(org_names([str(v) for v in names])[0])
    wanted: set[str] = set()
    staff = tables.get("staff")
    if staff is not None and "birth_date" in staff and "name" in staff:
        valid = staff.get("id_number_valid", pd.Series(False, index=staff.index)).fillna(False)
        bare_staff = staff[
            ~valid.astype(bool) & staff["birth_date"].notna() & staff["name"].notna()
        ]
        wanted.update(person_name(str(n)) for n in bare_staff["name"])

    def frame_of(values: set[str]) -> DataFrame:
        return F.broadcast(spark.createDataFrame(pd.DataFrame({"v": sorted(values)}), "v string"))

    picked = []
    if keys:
        k = frame_of(keys)
        picked.append(rows.join(k, rows["org_key"] == k["v"], "left_semi"))
        picked.append(
            rows.join(k, F.concat(F.lit("org:"), rows["org_core"]) == k["v"], "left_semi")
        )
    if written:
        w = frame_of(written)
        picked.append(rows.join(w, rows["org_written"] == w["v"], "left_semi"))
    if wanted:
        n = frame_of(wanted)
        picked.append(
            rows.filter(F.col("id_valid")).join(n, rows["name_norm"] == n["v"], "left_semi")
        )
    if not picked:
        return spark.createDataFrame(pd.DataFrame({"org_key": []}, dtype=str), "org_key string")
    orgs = picked[0].select("org_key")
    for more in picked[1:]:
        orgs = orgs.unionByName(more.select("org_key"))
    return orgs.dropna().distinct()
