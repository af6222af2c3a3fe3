"""A venue-day's Tardis files fetched one ahead, so each download overlaps the parse of
the file before it."""

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import date
from itertools import islice

from resources.tardis import SourceFile, TardisSource

# One file downloads while the current ones parse: a step runs one download at a time,
# so the "tardis" pool's limit on steps is a limit on concurrent downloads too.
AHEAD = 1

_Fetched = tuple[AbstractContextManager[SourceFile], SourceFile]


def fetched_files(
    tardis: TardisSource,
    venue: str,
    data_type: str,
    day: date,
    symbols: Sequence[str],
    *,
    held: int = 1,
) -> Iterator[SourceFile]:
    """Each symbol's file of (venue, data type, UTC day), in order, the next ``AHEAD``
    downloading in a thread while the caller reads the latest ones.

    The caller keeps the ``held`` latest files: a file's local copy is removed when the
    caller asks for the ``held``-th one after it (or stops). A download's ``TardisError``
    is raised when the caller asks for that file.
    """
    pool = ThreadPoolExecutor(max_workers=AHEAD, thread_name_prefix="tardis-fetch")
    pending: deque[Future[_Fetched]] = deque()
    kept: deque[AbstractContextManager[SourceFile]] = deque()
    upcoming = iter(symbols)

    def fetch(symbol: str) -> _Fetched:
        context = tardis.fetch(venue, data_type, symbol, day)
        return context, context.__enter__()

    try:
        pending.extend(pool.submit(fetch, symbol) for symbol in islice(upcoming, AHEAD))
        while pending:
            context, source = pending.popleft().result()
            kept.append(context)
            while len(kept) > held:
                kept.popleft().__exit__(None, None, None)
            following = next(upcoming, None)
            if following is not None:
                pending.append(pool.submit(fetch, following))
            yield source
    finally:
        while kept:
            kept.popleft().__exit__(None, None, None)
        for future in pending:
            if future.cancel():
                continue
            try:
                context, _ = future.result()
            except Exception:  # its error is moot: the caller has stopped
                continue
            context.__exit__(None, None, None)
        pool.shutdown(wait=True)
