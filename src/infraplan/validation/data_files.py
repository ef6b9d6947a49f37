"""The reader of the packaged validation data files (`infraplan/validation/data/*.csv`).

Every data file there carries a `# source:` header (where its rows were measured or published, with the licence),
some also `#` caveat lines; `catalog.data_files.read_rows`, the one reader of the packaged CSV files (the network
layer's NCCL tables too), drops every line that starts with `#` and reads the rest as CSV with a header row
(`csv.DictReader`, default dialect): one dict a row, column -> text as written, in file order (every row
carries every column, empty where it has no value; a test checks). Callers convert types and cache as they need.

Not read here: `vtrain_single_node.csv` (a byte-order mark and a header line that itself starts with `# GPUs`: read
positionally as numbers in `validation.sets`).

A leaf module: it imports nothing from `infraplan.validation`, so every set's module (`serving_prefix_reuse`, which
`serving_hopper` imports, included) may import it without a cycle.
"""

from __future__ import annotations

from infraplan.catalog import data_files


def read_rows(name: str) -> list[dict[str, str]]:
    """The rows of `validation/data/<name>` without its `#` lines (the `# source:` header, caveat notes)."""
    return data_files.read_rows("infraplan.validation", "data", name)
