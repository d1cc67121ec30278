"""Integrity-risk screening for community micro-project programmes (民生微实事).

The domain core: loading a district's ledgers, policy profiles, rules, findings, the scan
orchestration and the command line. No web framework is imported here.
"""

__version__ = "0.1.0"
