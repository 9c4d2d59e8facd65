"""Prometheus counters for accounts. The monitoring domain exposes them at /metrics.

The same figures can be read from the database (registration_attempt, login_attempt;
see `service.account_stats` and docs/operations/user-management.md), so the plan's
"self-registration success rate" survives restarts and is the same for every process.
"""

from __future__ import annotations

from prometheus_client import Counter

REGISTRATIONS = Counter(
    "mrs_registrations_total",
    "Self-registrations by outcome (submitted, approved, rejected; invalid = refused input;"
    " throttled = over the per-address or per-domain limit).",
    ["outcome"],
)
LOGINS = Counter(
    "mrs_logins_total",
    "Login attempts by outcome (succeeded, failed, throttled).",
    ["outcome"],
)

for _outcome in ("submitted", "approved", "rejected", "invalid", "throttled"):
    REGISTRATIONS.labels(outcome=_outcome)
for _outcome in ("succeeded", "failed", "throttled"):
    LOGINS.labels(outcome=_outcome)
