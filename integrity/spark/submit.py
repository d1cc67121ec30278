"""The command line as a Spark application, for ``spark-submit`` on a cluster:

    spark-submit --master yarn --deploy-mode client \\
        --conf spark.executor.instances=20 --conf spark.executor.cores=4 \\
        --conf spark.executor.memory=8g --conf spark.sql.shuffle.partitions=800 \\
        --conf spark.pyspark.python=/opt/integrity/bin/python \\
        integrity/spark/submit.py registry-screen officials/ --engine spark \\
        --registry s3a://bucket/registry/ --by-street parquet --out s3-mounted/out

The session is the one spark-submit starts (its master and settings; no ``--master``). The
executors run this package's functions (typing, keys, holders, name forms): their Python
(``spark.pyspark.python``) must have it installed, as the driver's has.
"""

from __future__ import annotations

from integrity.cli import app

if __name__ == "__main__":
    app()
