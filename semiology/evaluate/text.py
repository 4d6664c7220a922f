"""Tables as fixed-width plain text, for what the tools print on a terminal."""

from __future__ import annotations

from collections.abc import Sequence


def fixed_width(header: Sequence[str], rows: Sequence[Sequence[str]]) -> tuple[list[str], str]:
    """The header line, a rule and one line per row, columns padded to their widest cell; and the rule (to close the table with)."""
    table = [list(header), *[list(row) for row in rows]]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [line(table[0]), rule, *[line(row) for row in table[1:]]], rule
