"""The FastAPI service and its storage (SQLModel): uploads, screenings, the pre-award check,
triage, audit log and access control. Calls ``integrity`` and ``graph``; they never call it.

Not built yet: see issue 6 (the service). Nothing imports this package so far.
"""
