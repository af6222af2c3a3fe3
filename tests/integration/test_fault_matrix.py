"""The fault matrix's quick rows, run by the normal suite (``make test``, so CI) as
``make chaos`` runs them: the ``dagster`` CLI in subprocesses against the real components.

The whole matrix takes about half an hour on two cores (its Tardis rows wait out
deadlines, its instance rows restart PostgreSQL and the daemon); its fixes are tested in
``test_bounded_failures.py`` and ``test_lake_faults.py``. The rows here are the ones a
user meets first: input mistakes that must fail at once naming the fix, and a host in
another time zone and locale that must land byte-identical files.
"""

import pytest

from chaos import rows_hosts, rows_inputs
from chaos.outcome import Result

ROWS = [("inputs", row) for row in rows_inputs.rows()] + [
    ("host", row) for row in rows_hosts.rows()
]


@pytest.mark.parametrize(
    "group, row", ROWS, ids=[f"{group}-{number}" for number, (group, _) in enumerate(ROWS)]
)
def test_row_ends_as_expected(group: str, row) -> None:
    result: Result = row()
    assert result.met, f"{result.fault}: expected {result.expected}, observed {result.observed}"
    for count in (result.lost, result.duplicated, result.partial):
        assert count in (0, None), result
