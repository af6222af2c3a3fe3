"""The coverage heatmap: worst state per (venue, day), drawn as a PNG."""

from datetime import date

from market_assets.gaps.heatmap import ORDER, heatmap_png, worst_states
from market_assets.gaps.report import classify

DAYS = [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]


def test_each_cell_is_the_worst_state_over_the_assets() -> None:
    trades = classify(
        "ticks/trades", "binance", DAYS, {d: "MATERIALIZED" for d in DAYS}, {DAYS[1]: ["incidents"]}
    )
    quotes = classify(
        "ticks/quotes",
        "binance",
        DAYS,
        {DAYS[0]: "MATERIALIZED", DAYS[1]: "MATERIALIZED", DAYS[2]: "FAILED"},
        {},
    )
    deribit = classify("ticks/trades", "deribit", DAYS, {}, {})

    grid = worst_states([trades, quotes, deribit], ["binance", "deribit"], DAYS[0], DAYS[-1])

    assert [[ORDER[i] for i in row] for row in grid] == [
        ["materialized", "checks_failed", "failed"],
        ["missing", "missing", "missing"],
    ]
    png = heatmap_png([trades, quotes, deribit], ["binance", "deribit"], DAYS[0], DAYS[-1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
