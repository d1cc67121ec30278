"""The pre-award check: one award judged by the rules' own ``assess`` functions
(:mod:`api.check.answer`), answered from an index of a finished screening
(:mod:`api.check.index`)."""
