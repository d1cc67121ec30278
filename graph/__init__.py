"""The relationship graph (networkx): building it, kinship algebra and legal categories, path
queries and explanations. Knows nothing of files, HTTP or the database.

Not built yet: see issue 4 (kinship and the graph). Nothing imports this package so far.
"""
