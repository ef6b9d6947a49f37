"""Which rows of the dense Hopper serving set are scored: those whose source states the benchmark's clients.

Modelled: a closed-loop benchmark is run at its clients (concurrency), as its source states them
(`silicon_concurrency=N` in `silicon_data_source`). The dense set's rows not run (`not_run`, toggle
`STATED_CONCURRENCY_ONLY`): the 7 rows whose source states no concurrency (ids `..._c_...`, no `silicon_concurrency`:
the Dynamo 0.8.0 job 23364591, Qwen3-32B H100 fp8), as the MoE and disaggregated sets leave that job's rows. Their
`batch_size` is not the clients: the job's MoE row (Qwen3-235B TP4, batch 28) measured a 29 s TTFT, its vLLM TP1 row
(batch 24, ISL 4000) 295 ms, one 4000-token prefill's ~267 TFLOP at 92 % of the H100's 0.99 PFLOP/s dense fp8 peak
with no queue, and the disaggregated rows' decode slots would need prefills above that peak
(`serving_hopper_disagg`). Run as `batch_size` clients they were the set's 3rd and 7th largest errors (+384 / +260 %)
and set the host floor's fit (`serving_host_sequence_fit`: 98.7 us from the TP8 row at "224 clients"; 108.0 us
without them). Toggled (one tree): 21.74 -> 21.19 % (TTFT 31.18 -> 30.41, TPOT 12.31 -> 11.97), every other set
unchanged. Source: the rows' own `silicon_data_source` (validation/data/serving_measured_hopper.csv, AIConfigurator's
gap-analysis dump). Notes: hD42. Moved out of `validation.serving_hopper` (hS42).
"""

from __future__ import annotations

import re
from functools import cache

from infraplan.validation.data_files import read_rows

STATED_CONCURRENCY_ONLY = True  # score only rows whose source states the clients (docstring)
NO_CONCURRENCY = "the benchmark's concurrency is not stated (id 'c_', none in silicon_data_source)"


@cache
def hopper_rows() -> tuple[dict[str, str], ...]:
    return tuple(read_rows("serving_measured_hopper.csv"))


def stated_concurrency(row: dict[str, str]) -> int | None:
    """The benchmark's clients as the row's source states them (`silicon_concurrency=N`), or None."""
    found = re.search(r"silicon_concurrency=(\d+)", row["silicon_data_source"])
    return int(found.group(1)) if found else None


def why_not(row: dict[str, str]) -> str | None:
    """Why the row is not scored, or None: its source states no concurrency (module docstring)."""
    return NO_CONCURRENCY if STATED_CONCURRENCY_ONLY and stated_concurrency(row) is None else None


def not_run() -> list[str]:
    """This set's rows not scored, one line each: the id and why (`why_not`)."""
    return [f"{row['id']}: {reason}" for row in hopper_rows() if (reason := why_not(row))]
