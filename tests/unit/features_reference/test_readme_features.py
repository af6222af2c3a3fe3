"""The README's feature table (``## Features``: ``feature | definition | unit``) names
exactly the ``MFT`` feature columns, each with its ``Column.unit``."""

import re
from pathlib import Path

import pytest

from market_assets.features.columns import FEATURES

README = Path(__file__).resolve().parents[3] / "README.md"
HEADER = ["feature", "definition", "unit"]


def _cells(line: str) -> list[str]:
    """A markdown table row's cells: split on pipes not escaped as ``\\|`` (a definition
    may hold |r_t|), unescaped, stripped of spaces and code backticks."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [
        cell.replace("\\|", "|").strip().strip("`").strip()
        for cell in re.split(r"(?<!\\)\|", inner)
    ]


def feature_table(text: str) -> list[list[str]] | None:
    """The rows (feature, definition, unit) of the table under ``## Features``; None when
    the heading is absent; [] when it has no such table."""
    section = re.search(r"^## Features[ \t]*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    if section is None:
        return None
    rows: list[list[str]] = []
    lines = [line for line in section.group(1).splitlines() if line.strip().startswith("|")]
    for at, line in enumerate(lines):
        if [cell.lower() for cell in _cells(line)] == HEADER:
            for row in lines[at + 2 :]:  # after the |---|---|---| line
                rows.append(_cells(row))
            break
    return rows


def test_feature_table_reader() -> None:
    """The reader itself, on a table shaped like the README's."""
    text = (
        "# x\n\n## Features\n\nSome words.\n\n| feature | definition | unit |\n"
        "|---|---|---|\n| `amihud_20` | Mean of \\|r_t\\| / dollar_volume | log return |\n"
        "| `atm_iv` | The candle's ATM IV | percent |\n\n## Next\n\n| a | b | c |\n"
    )
    assert feature_table(text) == [
        ["amihud_20", "Mean of |r_t| / dollar_volume", "log return"],
        ["atm_iv", "The candle's ATM IV", "percent"],
    ]
    assert feature_table("# x\n\n## Candles\n") is None


def test_readme_feature_table_matches_the_columns() -> None:
    """Every feature column once, no other name, each unit the column's unit, each with
    a definition."""
    rows = feature_table(README.read_text(encoding="utf-8"))
    if rows is None:
        pytest.skip(
            "README.md has no '## Features' section yet (the feature table is being written)"
        )
    assert rows, "'## Features' has no 'feature | definition | unit' table"
    # GitHub drops a row's cells beyond the header's: an unescaped | in a definition
    # shifts its unit out of the rendered table.
    ragged = [row for row in rows if len(row) != 3]
    assert not ragged, f"rows without exactly 3 cells (escape | in a cell as \\|): {ragged}"
    names = [row[0] for row in rows]
    repeated = sorted({name for name in names if names.count(name) > 1})
    assert not repeated, f"named twice: {repeated}"
    columns = {column.name: column for column, _ in FEATURES}
    missing, unknown = sorted(set(columns) - set(names)), sorted(set(names) - set(columns))
    assert not missing and not unknown, f"missing: {missing}, unknown: {unknown}"
    wrong = {
        name: (unit, columns[name].unit) for name, _, unit in rows if unit != columns[name].unit
    }
    assert not wrong, f"README unit vs Column.unit: {wrong}"
    assert all(definition for _, definition, _ in rows)
