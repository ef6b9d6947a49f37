"""Design-space sweeps (issue 15): one API function over the product/zip of axes, on a local process pool or
on Ray, with resumable results in Parquet (pyarrow) queried with DuckDB.

- `spec.py`       the spec schema (function, fixed arguments, axes: lists, ranges, log ranges; product and zip)
- `functions.py`  the sweepable functions (open registry) and `run_batch`, the pure task; `train` batched
                  through the vectorised model
- `backends.py`   local process pool and Ray tasks: back-pressure, retries when a worker dies
- `store.py`      Parquet part files + an atomically replaced manifest: a crash never corrupts the table
- `runner.py`     `run_sweep`: key, skip what is done, batch, run, commit; progress bar; Ctrl-C saves
- `query.py`      DuckDB over the parts, Pareto fronts, a self-contained Plotly chart

The sweep layer sits just below the CLI, beside `validation`: it composes the domain APIs and `planning`.
"""

from __future__ import annotations

from infraplan.sweep.spec import SweepSpec, load_spec

__all__ = ["SweepSpec", "load_spec"]
