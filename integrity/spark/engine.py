"""The Spark engine as the screening sees it: what expands the officials' kinship
(:class:`integrity.screening.tables.KinEngine`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from integrity.errors import DatasetError, InputIssue
from integrity.load.dataset import Dataset, SourceFile
from integrity.spark.expand import expand
from integrity.spark.read import header_map, sha256
from integrity.spark.registry import SparkRegistry
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

    def hold_registry(self, location: str, dataset: Dataset, *, lenient: bool) -> SparkRegistry:
        """The person-role registry at ``location``, held on Spark: the dataset takes its rows
        of the organisations the dataset names (as its supplier_people table), its issues,
        and a record of each file read."""
        if dataset.has("supplier_people"):
            raise DatasetError(
                [
                    InputIssue(
                        "error",
                        "registry_twice",
                        dataset.root,
                        "数据集已有「企业关联人员」表，又指定了 --registry：只能有一处",
                        "the dataset has a supplier_people table and --registry names another: "
                        "give one",
                        table="supplier_people",
                    )
                ]
            )
        registry, opened = SparkRegistry.open(self.spark, location, dataset.tables, lenient=lenient)
        if len(opened.rows):
            dataset.tables["supplier_people"] = opened.rows
        dataset.issues.extend(opened.issues)
        dataset.warning_total += opened.warnings
        if opened.skipped:
            dataset.skipped_rows["supplier_people"] = opened.skipped
        with registry.timed("sha256"):
            digests = {file.uri: sha256(self.spark, file.uri) for file in opened.files}
        for file in opened.files:
            dataset.sources.append(
                SourceFile(
                    table="supplier_people",
                    file=file.uri,
                    sha256=digests[file.uri],
                    rows=opened.read.get(file.display, 0),
                    encoding=file.encoding,
                    header_row=1,
                    columns=header_map(file),
                )
            )
        return registry
