"""One reader for the packaged CSV data files: the NCCL / AIConfigurator tables under `catalog/nccl/` (read by the
network layer) and the validation data under `validation/data/` (`validation_rows`, merged here from
`validation.data_files` by hR62: every validation set reads its CSV rows through it).

Every such file carries a `# source:` header line (where its rows were measured or published), some also `#`
caveat lines; the reader drops every line that starts with `#` and reads the rest as CSV with a header row
(`csv.DictReader`, default dialect): one dict a row, column -> text as written, in file order and in the header's
column order. Blank lines are skipped (DictReader skips empty rows); CRLF line ends read as LF (`splitlines`).
Callers convert types and cache as they need.

Not read here: `validation/data/vtrain_single_node.csv` (a byte-order mark and a header line that itself starts with
`# GPUs`: read positionally as numbers in `validation.sets`).

In the catalog, the bottom layer, so that every layer above (network, validation) reads through it; it imports no
infraplan module, so every validation set's module may import it without a cycle. It names the validation package
only as the package whose data folder `validation_rows` reads (a resource path, not an import).
"""

from __future__ import annotations

import csv
from importlib import resources


def read_rows(package: str, folder: str, name: str) -> list[dict[str, str]]:
    """The rows of the packaged file `<package>/<folder>/<name>` without its `#` lines (the `# source:` header,
    caveat notes), e.g. `read_rows("infraplan.catalog", "nccl", "simai_nic_ratio.csv")`."""
    text = (resources.files(package) / folder / name).read_text("utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def validation_rows(name: str) -> list[dict[str, str]]:
    """The rows of `validation/data/<name>` without its `#` lines (the `# source:` header, caveat notes)."""
    return read_rows("infraplan.validation", "data", name)
