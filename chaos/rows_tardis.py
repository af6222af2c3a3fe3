"""Tardis faults, injected by the local server into the BTCUSDT file of the partition."""

from chaos.outcome import Result, settle
from chaos.world import DEADLINE_SECONDS, world

FILE = "/trades/2024/01/02/BTCUSDT"
EVERY_TIME = 10_000
URL_WORDS = ("binance/trades/2024/01/02/BTCUSDT.csv.gz",)


def _transient(fault: str, label: str, **options) -> Result:
    with world() as w:
        w.server.inject(fault, path_contains=FILE, **options)
        run = w.materialize()
        return settle(w, "tardis", label, "recovers", run, recovers=True)


def _persistent(fault: str, label: str, says: tuple[str, ...], **options) -> Result:
    with world() as w:
        w.server.inject(fault, path_contains=FILE, times=EVERY_TIME, **options)
        run = w.materialize()
        expected = f"fails, final, says {says[0]!r}"
        return settle(w, "tardis", label, expected, run, recovers=False, says=says)


def rows() -> list:
    """Each row a function returning its Result."""
    bounded = f"within the {DEADLINE_SECONDS} s deadline"
    return [
        lambda: _transient("500", "HTTP 500 burst (3 answers)", times=3),
        lambda: _transient("429", "HTTP 429 with Retry-After: 2 s (twice)", times=2, retry_after=2),
        _free_day_without_key,
        lambda: _persistent(
            "403", "HTTP 403 (a key without this subscription)", ("refused the API key",)
        ),
        _wrong_key,
        lambda: _persistent("404", "HTTP 404", ("has no file for", *URL_WORDS)),
        lambda: _transient("truncate", "body cut short once, no Content-Length"),
        lambda: _persistent(
            "truncate",
            "body cut short every time, no Content-Length",
            ("arrived truncated", *URL_WORDS),
        ),
        lambda: _transient("truncate_with_length", "body cut short once, with Content-Length"),
        lambda: _persistent(
            "truncate_with_length",
            f"body cut short every time, with Content-Length ({bounded})",
            ("truncated", "did not download within", *URL_WORDS),
        ),
        lambda: _transient("stall", "no answer for 4 s, once", stall_seconds=4),
        lambda: _transient("stall_body", "body stalls 4 s mid-way, once", stall_seconds=4),
        lambda: _persistent(
            "stall_body",
            f"body stalls mid-way every time ({bounded})",
            ("stalled", *URL_WORDS),
            stall_seconds=60,
        ),
        lambda: _transient("reset", "connection reset mid-body, once"),
        lambda: _persistent(
            "reset",
            f"connection reset mid-body every time ({bounded})",
            ("reset mid-body", *URL_WORDS),
        ),
        lambda: _persistent(
            "corrupt_row",
            "a price that is not a number",
            ("not a valid Tardis trades file", "not-a-number"),
        ),
        lambda: _persistent(
            "other_header", "the header of another data type", ("is not Tardis' trades header",)
        ),
        lambda: _persistent("extra_column", "an extra column", ("is not Tardis' trades header",)),
    ]


def _free_day_without_key() -> Result:
    with world() as w:
        run = w.materialize(TARDIS_API_KEY="")
        return settle(
            w,
            "tardis",
            "HTTP 401: a non-free day without a key",
            "fails, final, says 'only the first day of each month is free'",
            run,
            recovers=False,
            says=("only the first day of each month is free", "pick 2024-01-01"),
        )


def _wrong_key() -> Result:
    with world() as w:
        run = w.materialize(TARDIS_API_KEY="not-the-key")
        return settle(
            w,
            "tardis",
            "HTTP 401: a wrong key",
            "fails, final, says 'refused the API key'",
            run,
            recovers=False,
            says=("refused the API key", "TARDIS_API_KEY"),
        )
