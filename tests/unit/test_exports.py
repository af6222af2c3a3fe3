"""Which days a new Tardis exportedUntil makes complete."""

from datetime import UTC, date, datetime

from market_assets.automation.exports import (
    last_complete_day,
    newly_exported_days,
    parse_exported_until,
)


def test_a_day_is_complete_once_the_next_midnight_is_exported() -> None:
    assert last_complete_day(parse_exported_until("2024-01-10T00:00:00.000Z")) == date(2024, 1, 9)
    assert last_complete_day(datetime(2024, 1, 10, 6, 30, tzinfo=UTC)) == date(2024, 1, 9)


def test_new_days_between_two_readings() -> None:
    before = datetime(2024, 1, 10, tzinfo=UTC)
    assert newly_exported_days(before, before) == []
    assert newly_exported_days(before, datetime(2024, 1, 10, 23, tzinfo=UTC)) == []
    assert newly_exported_days(before, datetime(2024, 1, 11, tzinfo=UTC)) == [date(2024, 1, 10)]
    assert newly_exported_days(before, datetime(2024, 1, 13, 7, tzinfo=UTC)) == [
        date(2024, 1, 10),
        date(2024, 1, 11),
        date(2024, 1, 12),
    ]
