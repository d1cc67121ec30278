"""A Spark session for the engine: local mode on this machine by default, or the cluster a
``--master`` URL names."""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING

from integrity.errors import EngineError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

APP_NAME = "integrity-screening"
# local mode: every core, the shuffles small (the driver's frames are a district's, not a
# cluster's); a cluster sets its own through spark-submit or the master's defaults
LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "4g",
    "spark.sql.adaptive.enabled": "true",
}


def spark_session(master: str | None = None) -> SparkSession:
    """The active session, or a new one on ``master`` (``local[*]`` when None)."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - an optional extra
    except ImportError as exc:
        raise EngineError(
            "未安装 Spark 引擎 / the Spark engine is not installed: pip install 'integrity[spark]'"
        ) from exc
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineError(
            "Spark 需要 Java 运行环境 / Spark needs a Java runtime: "
            "apt-get install default-jre-headless"
        )
    # the workers run the default engine's own functions (typing, keys, holders): in local
    # mode with this interpreter and its packages; a cluster's executors need this package
    # installed (spark-submit --py-files, or the image), and PYSPARK_PYTHON set there
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName(APP_NAME)
    if master is None and os.environ.get("PYSPARK_GATEWAY_PORT"):
        # under spark-submit (integrity/spark/submit.py): its master and settings
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return spark
    builder = builder.master(master or "local[*]")
    if master is None or master.startswith("local"):
        for key, value in LOCAL_CONF.items():
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
