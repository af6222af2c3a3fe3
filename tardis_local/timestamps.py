"""Time in Tardis' terms: ISO strings with millisecond precision, µs since the epoch, UTC days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
EPOCH = date(1970, 1, 1)


def parse_iso(text: str) -> datetime:
    """Parse a Tardis ISO timestamp ("2019-03-30T00:00:00.000Z") into an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_iso(moment: datetime) -> str:
    """Format an aware (or naive = UTC) datetime the way Tardis does, millisecond precision."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day_start(day: date) -> datetime:
    """Midnight UTC starting `day`."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def day_us(day: date) -> int:
    """Midnight UTC starting `day`, in µs since the epoch."""
    return (day - EPOCH).days * US_PER_DAY


def moment_us(moment: datetime) -> int:
    """An aware datetime as µs since the epoch (UTC), exact to the microsecond."""
    return (moment - day_start(EPOCH)) // timedelta(microseconds=1)
