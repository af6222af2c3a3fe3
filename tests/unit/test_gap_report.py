"""Gap report classification and rendering."""

from datetime import date

from market_assets.gaps.report import classify, date_ranges, render_json, render_table

DAYS = [date(2024, 1, d) for d in range(1, 7)]


def test_each_day_gets_one_state_worst_first() -> None:
    coverage = classify(
        "ticks/trades",
        "binance",
        DAYS,
        {
            DAYS[0]: "MATERIALIZED",
            DAYS[1]: "MATERIALIZED",
            DAYS[2]: "FAILED",
            DAYS[3]: "IN_PROGRESS",
            DAYS[5]: "MATERIALIZED",
        },
        {DAYS[1]: ["coverage"], DAYS[2]: ["schema"]},
    )
    assert coverage.days["materialized"] == [DAYS[0], DAYS[5]]
    assert coverage.days["checks_failed"] == [DAYS[1]]
    assert coverage.days["failed"] == [DAYS[2]]  # a failed run outranks its old checks
    assert coverage.days["in_progress"] == [DAYS[3]]
    assert coverage.days["missing"] == [DAYS[4]]
    assert coverage.gaps == 3

    table = render_table([coverage], DAYS[0], DAYS[-1])
    assert "checks: 2024-01-02" in table and "3 gap(s)" in table
    report = render_json([coverage], DAYS[0], DAYS[-1])
    assert report["series"][0]["failed_checks"] == {"2024-01-02|binance": ["coverage"]}


def test_date_ranges_collapse_runs() -> None:
    days = [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 7)]
    assert date_ranges(days) == "2024-01-01..2024-01-03, 2024-01-07"
