"""Mutation wave hM23 (session 45) on `cli.commands._fitted_table`: hand-counted widths of the rules its docstring
states (a Rich table of column widths w is sum(w) + 3 x columns + 1 wide: a space each side and a border between and
at both edges; see `table_width`).
"""

from __future__ import annotations

import io

from rich.console import Console

from infraplan.cli.commands._fitted_table import ID, NUMBER, TEXT, TEXT_MIN_WIDTH, Col, fitted_tables


def _widths(parts: list) -> list[list[int]]:
    return [[c.width for c in p.columns] for p in parts]


def _headers(parts: list) -> list[list[str]]:
    return [[str(c.header) for c in p.columns] for p in parts]


def test_a_free_text_column_is_never_narrower_than_24() -> None:
    """A note whose one word is 30 characters: the column wraps it down to 24, not narrower, even where the console
    is narrower than that (the table then prints at its narrowest: 4 + 24 + 3 x 2 + 1 = 35 > 30)."""
    assert TEXT_MIN_WIDTH == 24
    cols, rows = [Col("name", ID), Col("note", TEXT)], [["pool", "x" * 30 + " and more"]]
    assert _widths(fitted_tables(None, cols, rows, 30)) == [[4, 24]]
    assert _widths(fitted_tables(None, cols, rows, 36)) == [[4, 25]]  # one column of room more: to the note
    console = Console(width=36, record=True, file=io.StringIO())
    console.print(*fitted_tables(None, cols, rows, 36))
    assert console.export_text().count("x") == 30  # the long word folded onto the next line, not cut


def test_the_room_goes_to_text_first_then_to_the_column_short_by_the_least() -> None:
    """x: 1 wide; A (header "aa bb"): 2 at its narrowest (a header wraps at spaces), 5 natural; B ("cccc dddd
    eeee"): 4 and 14. Narrowest 1 + 2 + 4 + 3 x 3 + 1 = 17; at 20 the 3 columns of room fill A (short by 3) before
    B (short by 10). With a TEXT column beside them, the text takes the room first."""
    cols = [Col("x", ID), Col("aa bb"), Col("cccc dddd eeee")]
    rows = [["a", "1", "2"]]
    assert _widths(fitted_tables(None, cols, rows, 20)) == [[1, 5, 4]]
    assert _widths(fitted_tables(None, cols, rows, 23)) == [[1, 5, 7]]
    text = [*cols, Col("note", TEXT)]
    # note: narrowest 4 ("note", words of 4), natural 14; narrowest table 1 + 2 + 4 + 4 + 3 x 4 + 1 = 24; at 30 the
    # 6 columns of room all go to the note
    assert _widths(fitted_tables(None, text, [["a", "1", "2", "word word word"]], 30)) == [[1, 2, 4, 10]]


def test_numbers_read_right_and_names_and_text_left() -> None:
    cols = [Col("name", ID), Col("power"), Col("note", TEXT), Col("share", NUMBER, justify="center")]
    (table,) = fitted_tables(None, cols, [["a", "1 kW", "ok", "1 %"]], 120)
    assert [c.justify for c in table.columns] == ["left", "right", "left", "center"]


def test_a_split_table_is_cut_into_parts_as_even_as_fit() -> None:
    """An identifier column 1 wide and columns of 10: a part of k of them is 1 + 10 k + 3 (k + 1) + 1 = 13 k + 5
    wide. At 60 columns a part holds at most 4; five columns print as 3 + 2 (44 and 31 wide), not 4 + 1; at 44 four
    columns print as 2 + 2 (31 each), not 3 + 1."""
    def table(k: int) -> tuple[list[Col], list[list[str]]]:
        return [Col("n", ID), *(Col(f"h{i}") for i in range(k))], [["a", *("x" * 10 for _ in range(k))]]

    assert _headers(fitted_tables("t", *table(5), 60)) == [["n", "h0", "h1", "h2"], ["n", "h3", "h4"]]
    assert _headers(fitted_tables("t", *table(4), 44)) == [["n", "h0", "h1"], ["n", "h2", "h3"]]
    assert _headers(fitted_tables("t", *table(4), 57)) == [["n", "h0", "h1", "h2", "h3"]]  # 13 x 4 + 5: whole
