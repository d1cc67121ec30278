"""The rule registry: one module per rule, each registering itself with :func:`rule`.

A rule is a plain function ``(ctx, settings) -> Iterable[Finding]``; its docstring is the
explanation users read (``integrity rules`` prints it, a test checks every rule has one). Its
thresholds and citation come from its section of the policy profile, validated by the settings
model it declares. Adding a rule means adding its module and one import line below.
"""

from __future__ import annotations

# one module per rule; importing it registers it (integrity.rules.registry)
from integrity.rules import (
    acceptance,  # noqa: F401
    avoidance,  # noqa: F401
    collusive_quotes,  # noqa: F401
    community_budget,  # noqa: F401
    funding_share,  # noqa: F401
    lifecycle,  # noqa: F401
    nomination,  # noqa: F401
    off_catalogue,  # noqa: F401
    over_cap,  # noqa: F401
    participation,  # noqa: F401
    quote_screens,  # noqa: F401
    quotes_process,  # noqa: F401
    related_supplier,  # noqa: F401
    service_share,  # noqa: F401
    split_bid,  # noqa: F401
    timeline,  # noqa: F401
    undeclared_relation,  # noqa: F401
    works_share,  # noqa: F401
)
from integrity.rules.registry import PROVISION_RULES, REGISTRY, Rule, ScanContext, assessor, rule

__all__ = ["PROVISION_RULES", "REGISTRY", "Rule", "ScanContext", "assessor", "rule"]
