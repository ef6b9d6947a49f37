"""What the aic_*.py calibration scripts share: reading one of NVIDIA AIConfigurator's measured parquet tables, and
the command line of a script that fits each system's tables and writes the fits as JSON beside itself.

Input: the aiconfigurator-core wheel (PyPI, Apache-2.0), unpacked; its `aiconfigurator_core/systems/data` folder
holds `<system>/<op>/<engine>/<release>/<name>_perf.parquet` (one row a measured configuration, `latency` in ms).
A script names its folder on the command line (`fit_systems`); run from the repository with `PYTHONPATH=src`, as
`python validation/calibration/<script>.py AIC_SYSTEMS_DATA_FOLDER` (the script's folder is on sys.path, so
`from aic_tables import ...` resolves here).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

HERE = Path(__file__).parent


def table(path: Path) -> dict[str, list[Any]]:
    """One measured table's columns (`pyarrow` `to_pydict`)."""
    return pq.read_table(path).to_pydict()  # type: ignore[no-any-return]


def fit_systems(argv: list[str], script: str, systems: Iterable[str],
                fit: Callable[[Path, str], dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """`fit(data folder, system)` for each system, written to `<script>.json` beside the scripts (indent 1); None,
    with the usage line on stderr, where `argv` is not one folder (the script then exits 2)."""
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print(f"usage: {script}.py AIC_SYSTEMS_DATA_FOLDER", file=sys.stderr)
        return None
    out = {system: fit(Path(argv[0]), system) for system in systems}
    (HERE / f"{script}.json").write_text(json.dumps(out, indent=1) + "\n")
    return out
