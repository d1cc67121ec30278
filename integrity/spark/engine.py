"""The Spark engine as the screening sees it: what expands the officials' kinship
(:class:`integrity.screening.tables.KinEngine`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from integrity.spark.expand import expand
from integrity.spark.session import spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class SparkEngine:
    spark: SparkSession
    name: str = "spark"

    @classmethod
    def start(cls, master: str | None = None) -> SparkEngine:
        """On ``master`` (a cluster's URL), or in local mode on this machine."""
        return cls(spark_session(master))

    def expand(
        self, officials: pd.DataFrame, links: pd.DataFrame, *, max_hops: int, max_same: int
    ) -> pd.DataFrame:
        return expand(self.spark, officials, links, max_hops=max_hops, max_same=max_same)
