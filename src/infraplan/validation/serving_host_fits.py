"""The serving stacks' host-side figures fitted on the Hopper serving sets: the front end in a TTFT
(`fit_front_ends`) and the Dynamo TensorRT-LLM workers' per-sequence host time (`fit_host_per_sequence`).

Both are calibrations (ASSUMPTION, fitted: the rows are not an independent check of them), each by one rule over the
scored rows of the dense (`validation.serving_hopper`) and MoE / MLA (`validation.serving_hopper_moe`) sets, from
the rows' measured figures; tests keep the stored stack figures on their rules. Merged by hR62 from
`serving_front_end_fit` and `serving_host_sequence_fit` (moves only); their docstrings follow, in that order.

The one rule the serving front-end figures are fitted by (`fit_front_ends`), on the current model.

The figures: the stacks' `request_latency_s` (`serving.engines`) and `validation.serving_row_rules`'
`ENGINE_SERVER_FRONT_END_S` (the rows served by the engines' own OpenAI servers; that module says which rows take
which).

ASSUMPTION (fitted, a calibration on the set: these rows are not an independent check of it; one figure per engine
family and path, no per-row factor). The rule, `fit_front_ends`: the median of measured minus modelled TTFT with the
front end left out, over the scored rows of both Hopper sets (dense: every row; MoE / MLA: the rows `why_not` keeps)
with at most `LOW_LOAD_BATCH` = 8 sequences per engine (the row's `batch_size`: the clients of a dense row, one
attention-DP rank's share on the MoE set's attention-DP rows), by the row's backend:
* `stack/<engine>`: every such row -> the stacks' `request_latency_s` (catalog/stacks/{trtllm,vllm,sglang}-0.x.yaml
  and every serving YAML in validation/data/stacks/, one figure per engine family);
* `server/<engine>`: those naming no gap-analysis source -> `ENGINE_SERVER_FRONT_END_S`.
Reproduced on the trees the stored figures were set on (read from git, run with their own model): at a50c55f
(2026-12-02 00:30, stacks set) the rule gives TensorRT-LLM 0.117 s (176 rows, quartiles 0.068-0.200 s), SGLang 0.197
s (35, 0.169-0.396), vLLM 0.030 s (139, 0.006-0.094): the stored 0.12 / 0.20 / 0.03 s at two decimals, with the row
counts and quartiles the `serving.engines` docstring quoted; at 136b6e8 (18:50, engine servers set) 0.0567 s (68
rows) / 0.0184 s (105) / 0.1361 s (7): the stored 0.057 / 0.018 / 0.136 s to the ms (counting the MoE rows by their
stated concurrency, not `batch_size`, drops one TensorRT-LLM row: 0.0557 s). History of the engine-server figures:
round 9 (73 / 114 / 18 rows, before each measurement was scored once), round 13 with the schedule-ahead loops
(`serving.schedule_ahead`: vLLM 0.023 -> 0.020, SGLang 0.160 -> 0.143), 2026-12-02 18:50 (0.058 -> 0.057, 0.020 ->
0.018, 0.143 -> 0.136). Refitted 2026-12-02 ~21:10 after that day's whole-prompt TensorRT-LLM Dynamo workers
(`fcfs-whole`), SGLang's prefill admission (`sglang-adder`) and eager SGLang prefills: stacks TensorRT-LLM 0.120 s
(170 rows, 0.068-0.217), SGLang 0.239 s (24, 0.137-0.397; was 0.20 since a50c55f), vLLM 0.022 s (130, 0.010-0.054;
was 0.03); engine servers TensorRT-LLM 0.057 s (68, 0.014-0.139), vLLM 0.018 s (105, 0.007-0.034), SGLang 0.138 s
(7, 0.024-0.163; was 0.136). Effect, each toggled on one tree (mean |error|): SGLang stacks 0.20 -> 0.239 s dense
20.749 -> 20.920 %, MoE 15.643 -> 15.598 %, disaggregated 14.414 -> 14.432 %; vLLM stacks 0.03 -> 0.022 s 20.720 /
15.662 / 14.414 %; SGLang engine server 0.136 -> 0.138 s 20.749 / 15.635 / 14.414 %; all three dense 20.749 ->
20.892 % (TTFT 29.11 -> 29.39), MoE 15.643 -> 15.611 % (TTFT 21.49 -> 21.43), disaggregated 14.414 -> 14.432 %,
MLPerf v4.1 5.57 % and v5.1 23.84 % unchanged (`front_end: false`). Refitted 2026-12-02 ~23:40 with the client's
round trip on (`serving.client_loop.CLIENT_ROUND_TRIP_S` 1 ms: the start-up waves persist, so less of the TTFT is
left to the front end): stacks TensorRT-LLM 0.089 s (170 rows, 0.034-0.183), SGLang 0.181 s (24, 0.084-0.293), vLLM
0.011 s (130, -0.015-0.044); engine servers TensorRT-LLM 0.047 s (68, 0.003-0.125), vLLM 0.010 s (105), SGLang 0.124
s (7; 0.132 s over 6 since 2026-12-03, a repeated measurement scored once: every set unchanged at
0.01 %); dense 20.85 -> 21.79 %, MoE 15.22 -> 14.90 %, disaggregated 14.43 -> 14.10 %. Refitted 2026-12-04 (hD44)
with the first wave sent in client order (`serving.client_loop.first_wave`): stacks TensorRT-LLM 0.0798 s (170 rows,
0.040-0.184), SGLang 0.190 s (23, 0.117-0.294), vLLM 0.0140 s (121, -0.009-0.048); engine servers TensorRT-LLM
0.0495 s (68, 0.005-0.128), vLLM 0.0123 s (96), SGLang 0.132 s (6). Only the TensorRT-LLM stack figure left its
tolerance: 0.089 -> 0.080 s (dense 20.98 -> 20.88 %, MoE 14.91 %, disaggregated 14.14 -> 14.47 %); the other five,
inside it, stay (all six refitted: dense 21.05 %, MoE 14.83 %, disaggregated 14.47 %). Refitted session 67 (hV2)
with vLLM's one attention call over a mixed batch (`serving.decode_kernels.mixed_shared_s`): stack vLLM 0.01396 ->
0.01402 s (121 rows), 2.96 -> 3.02 ms off the stored 0.011 s, so 0.011 -> 0.014 s in the four vLLM stacks (dense
17.979 -> 17.958 %, MoE 14.728 -> 14.748 %; the refit alone: 18.023 / 14.725 %). The stored figures are the fits
rounded to the ms; a test (tests/validation/test_serving_front_end.py) fails when one leaves its rule by more than
`FIT_TOLERANCE_S` or `FIT_TOLERANCE_SHARE` of it, whichever is larger. The front end is a constant added to TTFT, so
the fit does not depend on the stored figures (no fixed point to iterate). Note the stack rule spans both paths
while the sets apply it to the Dynamo-served rows only (the engine servers have their own figure): a Dynamo-only
refit was measured in round 9 and rejected (serving_hopper_moe_tried.md: dense 20.7 -> 25.5 %) and again today
(TensorRT-LLM 0.138 / SGLang 0.391 / vLLM 0.189 s: dense 25.55 %, MoE 15.95 %, disaggregated 14.63 %;
validation/notes/serving_hopper_tried.md round 17). Cost: ~1.6 CPU s in a fresh process (the low-load rows only).

The one rule the Dynamo TensorRT-LLM workers' per-sequence host figure is fitted by (`fit_host_per_sequence`).

The figure: `host_per_sequence_s` in the serving profiles of the validation sets' Dynamo TensorRT-LLM workers
(validation/data/stacks/trtllm-0.x-dynamo-agg.yaml, trtllm-1.0.0rc3-dynamo-agg.yaml; 0 in every other stack), the
floor `serving.host_overhead.per_sequence_floor` puts under a pure decode iteration of n sequences: n x the figure.
Its mechanism (ai-dynamo 0.4.0 dynamo/trtllm/request_handlers/handler_base.py:147-180, the worker's per-output Python
loop, one pass per decoding sequence per iteration) is in `serving.host_overhead`; no source gives its size.

ASSUMPTION (fitted, a calibration on the sets like the front ends, `fit_front_ends`; these rows
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

from infraplan.serving.serving_sim import front_end_s
from infraplan.validation import serving_hopper as dense
from infraplan.validation import serving_hopper_moe as moe
from infraplan.validation.serving_row_rules import served_by_dynamo, server_front_end_s

LOW_LOAD_BATCH = 8  # the rule's rows: at most this many sequences per engine (module docstring)
FIT_TOLERANCE_S = 0.003  # a stored figure may sit this far from its rule (the ms rounding and small model moves) ...
FIT_TOLERANCE_SHARE = 0.05  # ... or this share of it, whichever is larger (the per-sequence figure: the share alone)


class FrontEndFit(NamedTuple):
    """One front-end figure by its rule: the median (s), the rows it is the median of, their quartiles (s)."""

    seconds: float
    rows: int
    quartiles_s: tuple[float, float]


def low_load_residuals() -> list[tuple[dict[str, str], float]]:
    """(row, measured TTFT minus the modelled TTFT with the front end left out, s) for every scored row of the
    dense and the MoE / MLA Hopper sets with at most `LOW_LOAD_BATCH` sequences per engine (the row's `batch_size`).

    The front end is a constant added to every modelled TTFT (`serving_sim.simulate_deployment`, `run_row`), so the
    engine-only TTFT is the set's prediction less the row's front end: no second run."""
    scored = ((dense.load_rows(), dense.run_row, dense.row_deployment),
              ([r for r in moe.load_rows() if moe.why_not(r) is None], moe.run_row, moe.moe_deployment))
    out = []
    for rows, run_row, deployment in scored:
        for row in rows:
            if int(row["batch_size"]) <= LOW_LOAD_BATCH:
                engine_only = run_row(row)["ttft_s"] - server_front_end_s(row, front_end_s(deployment(row)))
                out.append((row, float(row["silicon_ttft_ms"]) / 1e3 - engine_only))
    return out


@cache
def fit_front_ends() -> dict[str, FrontEndFit]:
    """Both front-end rules on the current model (module docstring), once per process:

    * `stack/<engine>`: the serving stacks' `request_latency_s` (`serving.engines`), over every low-load row;
    * `server/<engine>`: `ENGINE_SERVER_FRONT_END_S`, over the low-load rows that name no gap-analysis source."""
    by_key: dict[str, list[float]] = {}
    for row, residual_s in low_load_residuals():
        by_key.setdefault(f"stack/{row['backend']}", []).append(residual_s)
        if not served_by_dynamo(row):
            by_key.setdefault(f"server/{row['backend']}", []).append(residual_s)
    fits = {}
    for key, values in sorted(by_key.items()):
        q1, median, q3 = (float(q) for q in np.percentile(values, [25, 50, 75]))
        fits[key] = FrontEndFit(median, len(values), (q1, q3))
    return fits


def drift_s(stored_s: float, fit: FrontEndFit) -> float:
    """How far a stored figure is from its rule beyond the tolerance (`FIT_TOLERANCE_S`, `FIT_TOLERANCE_SHARE`);
    0 within it."""
    return max(abs(stored_s - fit.seconds) - max(FIT_TOLERANCE_S, FIT_TOLERANCE_SHARE * fit.seconds), 0.0)


HIGH_LOAD_CLIENTS = 64  # the rule's rows: at least this many clients (module docstring)
# stacks carrying it (the net-quant what-if extends 1.0.0rc3's worker: release_stacks.TRTLLM_GEMM_NET_OF_QUANT)
DYNAMO_WORKER_STACKS = ("trtllm-0.x-dynamo-agg.yaml", "trtllm-1.0.0rc3-dynamo-agg.yaml",
                        "trtllm-1.0.0rc3-net-quant-dynamo-agg.yaml")


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
