"""Which days Tardis has newly exported. Pure functions over exchange-details timestamps."""

from datetime import UTC, date, datetime, timedelta


def parse_exported_until(value: str) -> datetime:
    """Tardis' ``datasets.exportedUntil`` (ISO, ``Z``) as an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def last_complete_day(exported_until: datetime) -> date:
    """The last UTC day D whose files are all out: D + 1 day 00:00 <= ``exported_until``."""
    return exported_until.astimezone(UTC).date() - timedelta(days=1)


def newly_exported_days(previous: datetime, current: datetime) -> list[date]:
    """Days complete at ``current`` that were not complete at ``previous``, oldest first."""
    first = last_complete_day(previous) + timedelta(days=1)
    last = last_complete_day(current)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
