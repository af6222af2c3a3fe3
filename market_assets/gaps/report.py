"""Gap report rows and their rendering. Pure functions: statuses in, text or JSON out."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# A partition's state, worst first when several apply.
FAILED = "failed"
MISSING = "missing"
CHECKS_FAILED = "checks_failed"
IN_PROGRESS = "in_progress"
MATERIALIZED = "materialized"
STATES = (FAILED, MISSING, CHECKS_FAILED, IN_PROGRESS, MATERIALIZED)


@dataclass
class Coverage:
    """One asset on one venue over the report's days."""

    asset: str
    venue: str
    days: dict[str, list[date]] = field(default_factory=lambda: {s: [] for s in STATES})
    failed_checks: dict[date, list[str]] = field(default_factory=dict)

    def count(self, state: str) -> int:
        return len(self.days[state])

    @property
    def gaps(self) -> int:
        return self.count(FAILED) + self.count(MISSING) + self.count(CHECKS_FAILED)


def classify(
    asset: str,
    venue: str,
    days: Sequence[date],
    status_by_day: Mapping[date, str | None],
    failed_checks_by_day: Mapping[date, list[str]],
) -> Coverage:
    """Sort each day into one state. ``status_by_day`` holds Dagster's partition status
    (``MATERIALIZED``, ``FAILED``, ``IN_PROGRESS`` or None for never materialised)."""
    coverage = Coverage(asset, venue)
    for day in days:
        status = status_by_day.get(day)
        if status == "FAILED":
            state = FAILED
        elif status == "IN_PROGRESS":
            state = IN_PROGRESS
        elif status != "MATERIALIZED":
            state = MISSING
        elif failed_checks_by_day.get(day):
            state = CHECKS_FAILED
            coverage.failed_checks[day] = sorted(failed_checks_by_day[day])
        else:
            state = MATERIALIZED
        coverage.days[state].append(day)
    return coverage


def missing_keys(coverages: Sequence[Coverage]) -> list[str]:
    """Partition keys (``day|venue``) missing or failed for any of the series, sorted."""
    keys = {
        f"{day}|{c.venue}"
        for c in coverages
        for state in (MISSING, FAILED)
        for day in c.days[state]
    }
    return sorted(keys)


def date_ranges(days: Iterable[date]) -> str:
    """``2024-01-01..2024-01-03, 2024-01-07`` for a set of days."""
    ordered = sorted(days)
    spans: list[tuple[date, date]] = []
    for day in ordered:
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in spans)


def render_table(coverages: Sequence[Coverage], first: date, last: date) -> str:
    """A table a person can read: counts per (asset, venue) and where the gaps are."""
    lines = [
        f"partitions from {first} to {last} ({(last - first).days + 1} days)",
        f"{'asset':<26} {'venue':<16} {'ok':>6} {'missing':>8} {'failed':>7} "
        f"{'checks':>7} {'running':>8}  gaps",
    ]
    for c in coverages:
        where = []
        for state, label in ((MISSING, "missing"), (FAILED, "failed"), (CHECKS_FAILED, "checks")):
            if c.days[state]:
                where.append(f"{label}: {date_ranges(c.days[state])}")
        lines.append(
            f"{c.asset:<26} {c.venue:<16} {c.count(MATERIALIZED):>6} {c.count(MISSING):>8} "
            f"{c.count(FAILED):>7} {c.count(CHECKS_FAILED):>7} {c.count(IN_PROGRESS):>8}  "
            + ("; ".join(where) or "-")
        )
    total = sum(c.gaps for c in coverages)
    lines.append(f"{total} gap(s) across {len(coverages)} asset × venue series")
    return "\n".join(lines)


def render_json(coverages: Sequence[Coverage], first: date, last: date) -> dict[str, Any]:
    """The same report for scripts: counts and every non-materialised partition key."""
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "series": [
            {
                "asset": c.asset,
                "venue": c.venue,
                "counts": {state: c.count(state) for state in STATES},
                "partitions": {
                    state: [f"{day}|{c.venue}" for day in c.days[state]]
                    for state in STATES
                    if state != MATERIALIZED
                },
                "failed_checks": {
                    f"{day}|{c.venue}": checks for day, checks in c.failed_checks.items()
                },
            }
            for c in coverages
        ],
        "gaps": sum(c.gaps for c in coverages),
    }
