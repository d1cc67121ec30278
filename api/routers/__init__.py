"""One router per surface: datasets and screenings, findings and triage, the pre-award
check, the graph, tokens and the audit log."""
