"""The Spark engine (``integrity scan --engine spark``): the stages whose cost grows with the
registry as Spark DataFrame jobs, judging with the same code as the default engine. PySpark
is an extra (``pip install 'integrity[spark]'``) with a Java runtime; nothing here is
imported unless the engine is asked for."""
