"""The batch kin expansion as Spark DataFrame jobs: every official's relatives within the
legal categories, the same rows as :func:`graph.expand.expand` gives.

A hop is a join of the paths so far with the links by their last person; the paths are
filtered as the default engine filters them (never back to someone on the path, at most
``max_same`` identity links and ``max_hops`` kin links) and only near relatives go on.
Composing and classifying a path's code is done with the default engine's own functions
(:func:`graph.expand.compose_code`, :func:`graph.expand.classify_code`), once per distinct
(code, link code) and (code, speaker sex) of a hop — a few hundred — collected to the
driver and joined back, never per path.

The same answer where paths tie: the default engine keeps, among a relative's paths of the
same closeness, confidence, length and code, the one it met first; it meets paths in the
order of their links, each link by its source person's key and its place in the link table
(a link read backwards after every link read forwards). Here each path carries that order
(``seq``: the links' (source key, place)) and ties are broken on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from graph.expand import EXPANSION_COLUMNS, NEAR, SAME, classify_code, compose_code, inverse_code
from graph.kinship import CLOSENESS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def _edges(spark: SparkSession, links: pd.DataFrame) -> DataFrame:
    """The links and their inverses (graph.expand.with_inverses), each with its place in
    the default engine's order: forward links first in the table's order, then inverses."""
    from pyspark.sql import functions as F  # noqa: PLC0415, N812 - the optional extra

    n = len(links)
    conf = links["conf"] if "conf" in links else pd.Series(1.0, index=links.index)
    dst_sex = links["dst_sex"] if "dst_sex" in links else pd.Series(None, index=links.index)
    frame = pd.DataFrame(
        {
            "link_id": links["link_id"].astype(str).to_numpy(),
            "src": links["src"].astype(str).to_numpy(),
            "dst": links["dst"].astype(str).to_numpy(),
            "code": links["code"].astype(str).to_numpy(),
            "src_sex": links["src_sex"].astype(object).where(links["src_sex"].notna(), None),
            "dst_sex": dst_sex.astype(object).where(dst_sex.notna(), None).to_numpy(),
            "conf": conf.astype(float).to_numpy(),
            "place": range(n),
        }
    )
    forward = spark.createDataFrame(frame)
    # the inverse codes by the shared function, once per distinct (code, speaker sex)
    pairs = [
        (r["code"], r["src_sex"]) for r in forward.select("code", "src_sex").distinct().collect()
    ]
    inverses = spark.createDataFrame(
        [(c, s, inverse_code(c, s)) for c, s in pairs],
        "code string, src_sex string, inverse string",
    )
    backward = forward.join(
        F.broadcast(inverses),
        on=forward["code"].eqNullSafe(inverses["code"])
        & forward["src_sex"].eqNullSafe(inverses["src_sex"]),
    ).select(
        forward["link_id"],
        forward["dst"].alias("src"),
        forward["src"].alias("dst"),
        inverses["inverse"].alias("code"),
        forward["conf"],
        (forward["place"] + F.lit(n)).alias("place"),
    )
    return forward.select("link_id", "src", "dst", "code", "conf", "place").unionByName(backward)


def _lookup(spark: SparkSession, rows: list[tuple[Any, ...]], schema: str) -> DataFrame:
    from pyspark.sql import functions as F  # noqa: PLC0415, N812

    return F.broadcast(spark.createDataFrame(rows, schema))


def expand(
    spark: SparkSession,
    officials: pd.DataFrame,
    links: pd.DataFrame,
    *,
    max_hops: int = 3,
    max_same: int = 2,
) -> pd.DataFrame:
    """:func:`graph.expand.expand` in Spark: ``officials`` (``key``, ``sex``) and ``links``
    (``link_id``, ``src``, ``dst``, ``code``, ``src_sex``, ``dst_sex``, ``conf``) as the
    default engine takes them; the same rows, in the same order, with the same columns."""
    from pyspark.sql import Window  # noqa: PLC0415
    from pyspark.sql import functions as F  # noqa: PLC0415, N812

    if links.empty or officials.empty:
        return pd.DataFrame(columns=EXPANSION_COLUMNS)
    edges = _edges(spark, links).cache()
    sexes = officials["sex"].astype(object).where(officials["sex"].isin(["男", "女"]), None)
    start = spark.createDataFrame(
        pd.DataFrame({"official": officials["key"].astype(str).to_numpy(), "sex": sexes}),
        "official string, sex string",
    )
    frontier = start.select(
        "official",
        "sex",
        F.col("official").alias("person"),
        F.lit(SAME).alias("code"),
        F.lit(1.0).alias("conf"),
        F.lit(0).alias("same"),
        F.lit(0).alias("hops"),
        F.array(F.col("official")).alias("nodes"),
        F.array().cast("array<string>").alias("via"),
        F.array().cast("array<struct<src:string,place:bigint>>").alias("seq"),
    )
    steps: list[DataFrame] = []
    known_compose: dict[tuple[str, str], str] = {}
    known_class: dict[tuple[str, str | None], tuple[str, str, str]] = {}
    for k in range(1, max_hops + max_same + 1):
        e = edges.alias("e")
        moved = frontier.alias("f").join(e, F.col("f.person") == F.col("e.src"))
        identity = F.col("e.code") == F.lit(SAME)
        moved = moved.select(
            F.col("f.official").alias("official"),
            F.col("f.sex").alias("sex"),
            F.col("f.code").alias("left"),
            F.col("e.code").alias("right"),
            identity.alias("identity"),
            (F.col("f.conf") * F.col("e.conf")).alias("conf"),
            (F.col("f.same") + identity.cast("int")).alias("same"),
            (F.col("f.hops") + (~identity).cast("int")).alias("hops"),
            F.col("e.dst").alias("person"),
            F.concat(F.col("f.nodes"), F.array(F.col("e.dst"))).alias("nodes"),
            F.concat(F.col("f.via"), F.array(F.col("e.link_id"))).alias("via"),
            F.concat(
                F.col("f.seq"), F.array(F.struct(F.col("e.src").alias("src"), F.col("e.place")))
            ).alias("seq"),
            F.array_contains(F.col("f.nodes"), F.col("e.dst")).alias("back"),
        )
        moved = moved.where(
            ~F.col("back") & (F.col("same") <= max_same) & (F.col("hops") <= max_hops)
        ).cache()
        # the composed codes and their readings by the shared functions
        pairs = [
            (r["left"], r["right"]) for r in moved.select("left", "right").distinct().collect()
        ]
        if not pairs:
            moved.unpersist()
            break
        for pair in pairs:
            if pair not in known_compose:
                known_compose[pair] = compose_code(*pair)
        composed = _lookup(
            spark,
            [(a, b, known_compose[(a, b)]) for a, b in pairs],
            "left string, right string, composed string",
        )
        moved = moved.join(composed, on=["left", "right"]).withColumn(
            "code", F.when(F.col("identity"), F.col("left")).otherwise(F.col("composed"))
        )
        spoken = [(r["code"], r["sex"]) for r in moved.select("code", "sex").distinct().collect()]
        for pair in spoken:
            if pair not in known_class:
                known_class[pair] = classify_code(*pair)
        readings = _lookup(
            spark,
            [(c, s, *known_class[(c, s)]) for c, s in spoken],
            "code string, sex string, category string, detail string, simple string",
        )
        step = (
            moved.join(
                readings,
                on=(moved["code"] == readings["code"]) & moved["sex"].eqNullSafe(readings["sex"]),
            )
            .select(
                moved["official"],
                moved["sex"],
                moved["person"],
                moved["code"],
                readings["category"],
                readings["detail"],
                readings["simple"],
                moved["conf"],
                moved["same"],
                moved["hops"],
                moved["nodes"],
                moved["via"],
                moved["seq"],
            )
            .where(F.col("category").isin(list(NEAR)))
            .withColumn("k", F.lit(k))
            .cache()
        )
        moved.unpersist()
        steps.append(step)
        # the next hop goes on from one path per (official, person, code): the first met
        first = Window.partitionBy("official", "person", "code").orderBy("seq")
        frontier = (
            step.withColumn("_n", F.row_number().over(first)).where(F.col("_n") == 1).drop("_n")
        )
    if not steps:
        return pd.DataFrame(columns=EXPANSION_COLUMNS)
    found = steps[0]
    for step in steps[1:]:
        found = found.unionByName(step)
    closeness = _lookup(
        spark, [(c, i) for c, i in CLOSENESS.items()], "category string, closeness int"
    )
    best = Window.partitionBy("official", "person").orderBy(
        F.col("closeness"),
        F.col("conf").desc(),
        F.col("hops"),
        F.col("code"),
        F.col("k"),
        F.col("seq"),
    )
    kept = (
        found.where(F.col("person") != F.col("official"))
        .join(closeness, on="category")
        .withColumn("_n", F.row_number().over(best))
        .where(F.col("_n") == 1)
        .select(
            "official",
            F.col("person").alias("relative"),
            "code",
            "simple",
            "category",
            "detail",
            F.col("hops").cast("long").alias("hops"),
            "via",
            "nodes",
            "conf",
        )
    )
    out = kept.toPandas()
    for step in steps:
        step.unpersist()
    edges.unpersist()
    return _as_default(out)


def _as_default(out: pd.DataFrame) -> pd.DataFrame:
    """The rows in the default engine's order (official, then relative, by key) and types
    (paths as tuples)."""
    out = out.sort_values(["official", "relative"], kind="stable").reset_index(drop=True)
    columns = {
        "official": out["official"].to_numpy(dtype=object),
        "relative": out["relative"].to_numpy(dtype=object),
        "code": out["code"].to_numpy(dtype=object),
        "simple": out["simple"].to_numpy(dtype=object),
        "category": out["category"].to_numpy(dtype=object),
        "detail": out["detail"].to_numpy(dtype=object),
        "hops": out["hops"].to_numpy(dtype="int64"),
        "via": _tuples(out["via"]),
        "nodes": _tuples(out["nodes"]),
        "conf": out["conf"].to_numpy(dtype=float),
    }
    return pd.DataFrame(columns, copy=False)


def _tuples(values: pd.Series) -> Any:
    import numpy as np  # noqa: PLC0415

    out = np.empty(len(values), dtype=object)
    out[:] = [tuple(v) for v in values]
    return out
