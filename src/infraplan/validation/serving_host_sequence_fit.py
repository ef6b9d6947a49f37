"""The one rule the Dynamo TensorRT-LLM workers' per-sequence host figure is fitted by (`fit_host_per_sequence`).

The figure: `host_per_sequence_s` in the serving profiles of the validation sets' Dynamo TensorRT-LLM workers
(validation/data/stacks/trtllm-0.x-dynamo-agg.yaml, trtllm-1.0.0rc3-dynamo-agg.yaml; 0 in every other stack), the
floor `serving.host_overhead.per_sequence_floor` puts under a pure decode iteration of n sequences: n x the figure.
Its mechanism (ai-dynamo 0.4.0 dynamo/trtllm/request_handlers/handler_base.py:147-180, the worker's per-output Python
loop, one pass per decoding sequence per iteration) is in `serving.host_overhead`; no source gives its size.

ASSUMPTION (fitted, a calibration on the sets like the front ends, `validation.serving_front_end_fit`; these rows
are not an independent check of it). The rows: every scored row of the dense Hopper set and of the MoE / MLA set
(`why_not` None) whose deployment runs one of those stacks, with at least `HIGH_LOAD_CLIENTS` = 64 clients (the
row's `batch_size`). Per row, from its measured figures only: D = (OSL - 1) x TPOT, a request's decode time; n = c
D / (TTFT + D), the sequences decoding on average in a closed loop of c clients (Little's law); TPOT / n, the
iteration time per decoding sequence. A floor lies at or below every row's TPOT / n (GPU-bound rows sit above it:
the TensorRT-LLM 1.0.0rc3 Llama-3.1-8B rows at 128 clients bottom out at 108-116 us on TP2, TP4 and TP8 alike, TP1
at 156 us, Qwen3-32B fp8 at 162 us and above), so the rule takes the tightest bound the rows give: their minimum (108.0
us over 186 rows: Llama-3.1-8B TP8 at 64 clients, ISL 2048, OSL 512, TensorRT-LLM 1.0.0rc3, ai-dynamo 0.4.0's worker;
98.7 us over 189 until hD42 took out the dense rows that state no concurrency, whose TP8 row at "224 clients" set it).
The figure moves no row of any set today: the floor is off (`serving.host_overhead.HOST_PER_SEQUENCE`).
The median instead (305 us over 141 dense rows, quartiles 200-521 us) is the TPOT / n of GPU-bound rows,
mixed iterations included, not of the floor: it would price Llama-3.1-8B TP8 at 128 clients at ~39 ms a token
against 10 ms measured. Measured effect: validation/notes/serving_hopper_tried.md round 22.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np

from infraplan.validation import serving_hopper as dense
from infraplan.validation import serving_hopper_moe as moe

HIGH_LOAD_CLIENTS = 64  # the rule's rows: at least this many clients (module docstring)
# stacks carrying it (the net-quant what-if extends 1.0.0rc3's worker: release_stacks.TRTLLM_GEMM_NET_OF_QUANT)
DYNAMO_WORKER_STACKS = ("trtllm-0.x-dynamo-agg.yaml", "trtllm-1.0.0rc3-dynamo-agg.yaml",
                        "trtllm-1.0.0rc3-net-quant-dynamo-agg.yaml")
FIT_TOLERANCE_SHARE = 0.05  # a stored figure may sit this share of its rule away


class HostSequenceFit(NamedTuple):
    """The figure by its rule (s), the rows it is the minimum over, the median of their TPOT / n (s)."""

    seconds: float
    rows: int
    median_s: float


def per_sequence_time_s(row: dict[str, str]) -> float:
    """A row's measured TPOT / n (s), n = c D / (TTFT + D), D = (OSL - 1) TPOT (module docstring)."""
    clients, osl = int(row["batch_size"]), int(row["osl"])
    tpot_s, ttft_s = float(row["silicon_tpot_ms"]) / 1e3, float(row["silicon_ttft_ms"]) / 1e3
    decode_s = (osl - 1) * tpot_s
    return tpot_s / (clients * decode_s / (ttft_s + decode_s))


def high_load_values() -> list[tuple[dict[str, str], float]]:
    """(row, TPOT / n in s) for the rule's rows (module docstring)."""
    scored = ((dense.load_rows(), dense.row_deployment),
              ([r for r in moe.load_rows() if moe.why_not(r) is None], moe.moe_deployment))
    out = []
    for rows, deployment in scored:
        for row in rows:
            if (int(row["batch_size"]) >= HIGH_LOAD_CLIENTS
                    and deployment(row).stack.endswith(DYNAMO_WORKER_STACKS)):
                out.append((row, per_sequence_time_s(row)))
    return out


@cache
def fit_host_per_sequence() -> HostSequenceFit:
    """The rule (module docstring), once per process: the minimum of the rows' measured TPOT / n."""
    values = [v for _, v in high_load_values()]
    return HostSequenceFit(float(np.min(values)), len(values), float(np.median(values)))


def within_rule(stored_s: float, fit: HostSequenceFit) -> bool:
    """Whether a stored figure is its rule within `FIT_TOLERANCE_SHARE`."""
    return abs(stored_s - fit.seconds) <= FIT_TOLERANCE_SHARE * fit.seconds
