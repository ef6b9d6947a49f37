"""Tables that fit the terminal: `plan`, `compare` and `fleet-mix` print their rows through `print_fitted`.

Rich shrinks a table wider than the console by wrapping its cells, and past their words by cutting them: at 80
columns `plan`'s pools table printed "devic es" and "$49 8 k", fleet-mix's "reque…" (session 44's hU57). Here a
cell holding a number with its unit is never cut (`NUMBER` and `ID` columns do not wrap and are as wide as their
widest cell; a header wraps at its spaces only); free text (`TEXT`, an operating point) wraps at spaces. A table
whose narrowest layout is wider than the console is printed as several, each with the identifier columns and as
many of the others, in order, as fit ("pools (1/2)", "pools (2/2)"); at 120 columns the tables print whole, as
before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from infraplan.cli.commands import _output

if TYPE_CHECKING:
    from rich.table import Table

ID, NUMBER, TEXT = "id", "number", "text"
TEXT_MIN_WIDTH = 24  # a free-text column is at least this wide (or its longest word, if shorter): words are not cut


@dataclass(frozen=True)
class Col:
    """A column: its header, its kind (ID: repeated in every part of a split table, wraps at spaces only; NUMBER:
    never cut; TEXT: wraps at spaces) and its justification (ID and TEXT columns read left, numbers right by
    default)."""

    header: str
    kind: str = NUMBER
    justify: Literal["left", "right", "center"] | None = None


def _lines(cell: str) -> list[str]:
    return cell.splitlines() or [""]


def _widths(col: Col, cells: Sequence[str]) -> tuple[int, int]:
    """(narrowest, natural) width of a column's text: a NUMBER column is never narrower than its widest cell, nor
    than its header's longest word (a header wraps at spaces); an ID column than its longest word (a label of words,
    compare's "fleet value (installed base included)", wraps at spaces; a name has none); a TEXT column wraps its
    cells, down to TEXT_MIN_WIDTH or its longest word."""
    head = max(len(w) for w in col.header.split())
    lines = [len(line) for cell in cells for line in _lines(cell)]
    words = [len(w) for cell in cells for w in cell.split()]
    natural = max([len(col.header), *lines])
    if col.kind == TEXT:
        return max(head, min(max([1, *words]), TEXT_MIN_WIDTH)), natural
    return max([head, *(words if col.kind == ID else lines)]), natural


def table_width(widths: Sequence[int]) -> int:
    """Columns a Rich table of these column widths prints in: a space each side of every cell, a border between
    columns and at both edges (`rich.box.HEAVY_HEAD`, Table's default)."""
    return sum(widths) + 3 * len(widths) + 1


def _fit(ranges: Sequence[tuple[int, int]], kinds: Sequence[str], width: int) -> list[int] | None:
    """Column widths within `width`: every column at its natural width where that fits, else from its narrowest,
    the room left given to TEXT columns first, then to the others, those short of their natural width by the least
    first (the most headers on one line); None where even the narrowest is wider."""
    if table_width([n for _, n in ranges]) <= width:
        return [n for _, n in ranges]
    widths = [m for m, _ in ranges]
    room = width - table_width(widths)
    if room < 0:
        return None
    for i in sorted(range(len(ranges)), key=lambda i: (kinds[i] != TEXT, ranges[i][1] - ranges[i][0])):
        extra = min(room, ranges[i][1] - widths[i])
        widths[i] += extra
        room -= extra
    return widths


def _table(title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]], keep: Sequence[int],
           widths: Sequence[int]) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for i, w in zip(keep, widths, strict=True):
        col = cols[i]
        justify = col.justify or ("right" if col.kind == NUMBER else "left")
        table.add_column(col.header, justify=justify, overflow="fold", width=w)
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


def fitted_tables(title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]],
                  width: int) -> list[Table]:
    """The table of `rows`, or its parts where it is wider than `width` (module doc); a part is titled with its
    number, "title (1/2)"."""
    ranges = [_widths(c, [row[i] for row in rows]) for i, c in enumerate(cols)]
    kinds = [c.kind for c in cols]
    ids = [i for i, c in enumerate(cols) if c.kind == ID]
    groups: list[list[int]] = [[]]
    for i in (i for i, c in enumerate(cols) if c.kind != ID):
        trial = sorted([*ids, *groups[-1], i])
        if groups[-1] and _fit([ranges[k] for k in trial], [kinds[k] for k in trial], width) is None:
            groups.append([i])
        else:
            groups[-1].append(i)
    for j in range(len(groups) - 2, -1, -1):  # balance: a part's last columns move on while it stays the wider
        while len(groups[j]) > 1:
            left, right = groups[j][:-1], [groups[j][-1], *groups[j + 1]]
            fits = [_fit([ranges[k] for k in sorted([*ids, *g])], [kinds[k] for k in sorted([*ids, *g])], width)
                    for g in (left, right)]
            if fits[0] is None or fits[1] is None or table_width(fits[0]) < table_width(fits[1]):
                break
            groups[j], groups[j + 1] = left, right
    parts = []
    for n, group in enumerate(groups, 1):
        keep = sorted([*ids, *group])
        fit = _fit([ranges[k] for k in keep], [kinds[k] for k in keep], width)
        widths = fit if fit is not None else [ranges[k][0] for k in keep]  # one column too wide alone: its own
        parts.append(_table(title if len(groups) == 1 else f"{title or 'table'} ({n}/{len(groups)})", cols, rows,
                            keep, widths))
    return parts


def print_fitted(title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]]) -> None:
    """Print `rows` under `cols` at the console's width (`fitted_tables`)."""
    console = _output.console
    for table in fitted_tables(title, cols, rows, console.width):
        console.print(table)
