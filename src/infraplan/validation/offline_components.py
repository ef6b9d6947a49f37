"""The model's Offline engine rate split into the terms it prices: seconds per output token, by part.

An MLPerf Offline row is throughput-bound: every sample is queued at t = 0, so the engine's iterations (which
prompt chunks and which decoding sequences each one carries) follow from the token counts, the batch limits and
the KV cache alone, never from the clock. The run's duration is then the sum of its iterations' times, each the
sum of `llm_iteration.IterationCost`'s terms, so it is linear in every term: removing one term from the cost
tables and running again removes exactly that term's share of the duration. That is the split made here (one run
per term; the parts sum to the run's duration up to `residual`, the non-linear floors: an eager iteration's host
launches, a lock-step step's slowest rank, a pool's last engine), per output token of the whole deployment, so
`total` is 1 / the predicted output tokens/s and the published row's is 1 / its tokens/s:

* the body (`IterationCost.body_s`, the non-attention work of an iteration's tokens, prompt and decode alike):
  `validation.step_components.BODY_PARTS` (GEMMs by role, element-wise, MoE routing kernels, the TP all-reduces
  and EP all-to-alls) and `other` (what the body holds beyond them: block-fp8 floors, measured release tables);
* `attention_pairs`: the prompt's causal attention (`pair_s` x query-key pairs; chunked or not, L (L + 1) / 2 a
  prompt of L tokens); `per_prefill_token`: the per-prompt-token terms (wide-EP stalls, windows, drafts);
* `kv_reads`: the decode rows' cached-token reads (`kv_token_s`); `attention_launches`: the attention op's fixed
  launches per prefill / decode iteration; `head_and_rows`: the LM head and per-row terms; `overhead`: the host's
  fixed cost per iteration.

The run is the row's Offline run as `validation.inference` sizes it: whole passes of the dataset, the first pass
and the steady pass of a two-pass run, k passes as LoadGen's query (`loadgen_passes`); each part is split on both
runs and put together the same way, so `total` is the row's prediction (tests/validation/
test_offline_components.py). Diagnostic only: nothing here feeds the scoring. The split of the MLPerf v5.1
Offline rows and what it says is in validation/notes/inference_frontier_tried.md (hV55, session 48).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import IterationCost, build_iteration_cost
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import Requests
from infraplan.validation.inference import case_deployment, case_requests, case_shape, loadgen_passes
from infraplan.validation.step_components import body_part_tables

TERMS = ("attention_pairs", "per_prefill_token", "kv_reads", "attention_launches", "head_and_rows", "overhead")


def cost_without(cost: IterationCost, term: str, body_tables: dict[str, np.ndarray]) -> IterationCost:
    """`cost` with one part removed: a body part (`body_tables`, seconds by token count) or one of `TERMS`."""
    if term in body_tables:
        return replace(cost, body_s=cost.body_s - body_tables[term])
    zeros: dict[str, dict[str, Any]] = {
        "attention_pairs": {"pair_s": 0.0}, "per_prefill_token": {"per_prefill_token_s": 0.0},
        "kv_reads": {"kv_token_s": 0.0}, "attention_launches": {"prefill_fixed_s": 0.0, "decode_fixed_s": 0.0,
                                                               "shared_fixed_s": 0.0, "prefill_row_s": 0.0},
        "head_and_rows": {"head_s": np.zeros_like(cost.head_s), "decode_row_s": None}, "overhead": {"overhead_s": 0.0},
    }
    return replace(cost, **zeros[term])


def offline_components(case: dict[str, Any], data: dict[str, Any]) -> dict[str, float]:
    """Seconds per output token of the case's Offline run (its deployment, all engines) by part (module
    docstring), with `total` (the run's duration over its output tokens), `residual` (total less the parts),
    `passes` (LoadGen's query, whole passes of the dataset) and `published` (1 / the row's tokens/s, if any)."""
    engine, workloads = data["engine"], data["workloads"]
    shape, cluster = case_shape(case), Cluster.resolve(case["system"])
    dep = case_deployment(case, engine)
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep)
    one = case_requests(case, workloads, None)
    two = Requests(np.tile(one.arrival_s, 2), np.tile(one.input_tokens, 2), np.tile(one.output_tokens, 2))
    front_end = engine.get("front_end", True)

    def duration(c: IterationCost, requests: Requests) -> float:
        return float(simulate_deployment(shape, cluster, dep, requests, front_end=front_end, cost=c)["duration_s"])

    rules = {**engine, **case}  # the runner's rules (`validation.inference._simulate`)
    minimum_s, slack = rules.get("offline_min_duration_s", 0.0), rules.get("offline_query_slack")
    first = duration(cost, one)
    steady = duration(cost, two) - first if minimum_s and first < (slack or 1.0) * minimum_s else 0.0
    if not steady:
        passes = 1
    elif slack is None:  # whole passes to the minimum duration, as the runner's rule without LoadGen's slack
        passes = max(round(minimum_s / first), 1)
    else:
        passes = loadgen_passes(first, steady, slack * minimum_s)
    tokens = passes * float(np.sum(one.output_tokens))

    def run_s(c: IterationCost) -> float:  # k passes: the first, then k - 1 steady ones
        f = duration(c, one)
        return f + (passes - 1) * (duration(c, two) - f) if passes > 1 else f

    total_s = first + (passes - 1) * steady
    tables = body_part_tables(case, engine, np.arange(len(cost.body_s), dtype=np.float64), cost.body_s)
    parts = {name: (total_s - run_s(cost_without(cost, name, tables))) / tokens
             for name in (*tables, *TERMS)}
    out = {**parts, "total": total_s / tokens, "residual": total_s / tokens - sum(parts.values()),
           "passes": float(passes)}
    if case.get("published"):
        out["published"] = 1.0 / float(case["published"])
    return out


def closing_fractions(parts: dict[str, float]) -> dict[str, float]:
    """For each priced part of an `offline_components` split with a published row: the fraction of that part the
    model would have to drop (negative: add) for its total to equal the published one, the part alone moving.
    Above 1, that part alone cannot close the row."""
    gap = parts["total"] - parts["published"]
    names = [name for name in parts if name not in ("total", "residual", "passes", "published")]
    return {name: gap / parts[name] for name in names if parts[name] > 1e-3 * parts["total"]}
