"""The matrix as a Markdown table."""

from chaos.outcome import Result

COLUMNS = (
    "fault",
    "expected",
    "observed",
    "as expected",
    "time to recover or fail (s)",
    "rows lost",
    "rows duplicated",
    "partial files visible",
)


def markdown(results: list[Result], *, header: bool = True) -> str:
    lines = []
    if header:
        lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in results:
        cells = (
            f"{r.group}: {r.fault}",
            r.expected,
            r.observed,
            "yes" if r.met else "**no**",
            "" if r.seconds is None else f"{r.seconds:.1f}",
            _count(r.lost),
            _count(r.duplicated),
            _count(r.partial),
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _count(value: int | None) -> str:
    return "n/a" if value is None else str(value)
