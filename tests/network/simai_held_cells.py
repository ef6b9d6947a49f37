"""The SimAI tables' cells as the model holds them, from the CSVs by hand (hN, session 77): each node column over its
largest message (16 GiB), time held non-decreasing in size from the largest row down (a row raised to the one above
/ (1 + ln 2)), so the cells at and above a column's largest violation are the measured ones."""

from __future__ import annotations

import csv
import math
from importlib import resources


def held_column(table: str, column: int) -> dict[int, float]:
    """{size in bytes: efficiency} of CSV column `column` (1 = the NVLink column, 2-8 the 2-128-node ones)."""
    text = resources.files("infraplan.catalog").joinpath("nccl", table).read_text()
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))[1:]
    sizes = [int(r[0]) for r in rows]
    cells = [float(r[column]) for r in rows]
    for i in range(len(cells) - 1, 0, -1):
        cells[i - 1] = max(cells[i - 1], cells[i] / (1.0 + math.log(2.0)))
    return {size: cell / cells[-1] for size, cell in zip(sizes, cells, strict=True)}


def held_cell(table: str, column: int, size: int) -> float:
    """The held efficiency of one cell (`held_column`)."""
    return held_column(table, column)[size]
