"""The model's decode step at a measured operating point, split into the terms it prices.

`validation.operating_point` gives each latency-bound MLPerf row's batch by Little's law (sequences decoding per
engine N = requests/s x mean output x mean TPOT) and the model's step there against the measured TPOT mean. This
module says what that step is made of: one pure-decode iteration of N sequences holding C cached tokens each
(`serving.llm_iteration.decode_time`), split as the iteration model sums it (`layer_work.layer_time` and
`build_iteration_cost`), per step (x the layers):

* GEMMs by role (`ops.layer_ops` at the inference layout): the attention projections (`attention_gemms`: QKV or
  MLA's down / up projections and the output projection), MLA's absorbed per-head BMMs (`mla_absorb`), the routed
  experts' grouped GEMMs (`routed_experts`), the router, the shared experts and the dense FFN (first-k dense
  layers of an MoE, or every layer of a dense model), each priced by `routed_experts.layer_gemm_time` as the
  iteration model prices it;
* the element-wise kernels (`serving.engine_kernels`) and the MoE routing kernels (`routed_experts
  .moe_routing_time`);
* the TP all-reduces and the EP dispatch / combine (`network.collectives`, the stack's custom all-reduce);
* `head_and_rows`: the LM head for N sampled rows plus every per-row decode term (`IterationCost.head_s`: MLA's
  per-row query terms, measured absorbed BMMs); `kv_reads`: the cached tokens read (`kv_token_s` x N x C);
  `fixed`: the per-layer decode-attention launch terms; `overhead`: the host's fixed cost per iteration;
* `other`: the model's body less the parts above (block-fp8 GEMM floors, a release's measured MoE tables, the
  eager host floor where the batch exceeds the graph cap): zero where none applies.

The parts sum to `total` = `decode_time(cost, N, C)` by construction.

A latency row's mean step (`mean_step_components`): the step `operating_point.mean_step_s` prices at the row's
measured point, a fraction f of steps carrying a prompt chunk (f x T(chunk + N) + (1 - f) x T(N)), split the same
way, with `prompt_attention` (the chunk's query-key pairs and per-prompt-token terms) and `floor` (the eager /
per-sequence host floors: the total less the parts). Along a system's two-point step line t = a + b M
(`operating_point.step_line`, M tokens per step) every part is itself a line, a_part + b_part M through its values
at the two points (`step_line_components`): the parts' intercepts and slopes sum to the model's a and b, set
beside the measured a and b, grouped as `LINE_GROUPS` (GEMMs, MoE, communication, attention, element-wise, launch
/ host, sampling; the tables: validation/notes/inference_frontier_tried.md, hP session 52).

Diagnostic only: nothing here feeds the scoring. The comparison it serves (DeepSeek-R1 B200 Server, H077: which
term the measured 66.5 ms step holds that the model's lacks) is in validation/notes/inference_frontier_tried.md,
Round 15. The body's split over any token counts (`body_part_tables`, one array) also splits the Offline runs
(`validation.offline_components`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import layer_ops
from infraplan.serving import (
    decode_kernels,
    deepgemm_moe,
    engine_kernels,
    expert_slots,
    release_tables,
    routed_experts,
    trtllm_gen_moe,
)
from infraplan.serving.engines import load_engine
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.kv_cache import stage_layers
from infraplan.serving.layer_work import serving_collective_time
from infraplan.serving.llm_iteration import (
    build_iteration_cost,
    decode_time,
)
from infraplan.validation.inference import case_deployment, case_requests, case_shape

GEMM_GROUPS = {  # op-table GEMM role -> reported part
    "qkv": "attention_gemms", "qkv_down": "attention_gemms", "q_down": "attention_gemms", "q_up": "attention_gemms",
    "kv_down": "attention_gemms", "indexer_q": "attention_gemms", "indexer_k": "attention_gemms",
    "indexer_weights": "attention_gemms",
    "kv_up": "attention_gemms", "attention_out": "attention_gemms", "q_absorb": "mla_absorb", "v_absorb": "mla_absorb",
    "expert_up": "routed_experts", "expert_down": "routed_experts", "router": "router", "shared_up": "shared_experts",
    "shared_down": "shared_experts", "ffn_up": "dense_ffn", "ffn_down": "dense_ffn",
}
PARTS = ("attention_gemms", "mla_absorb", "routed_experts", "router", "shared_experts", "dense_ffn", "elementwise",
         "moe_routing_kernels", "tp_collectives", "ep_collectives", "head_and_rows", "kv_reads", "fixed", "overhead",
         "other")


LINE_GROUPS = {  # part -> the group a step line reports (module docstring)
    "attention_gemms": "gemm", "mla_absorb": "gemm", "shared_experts": "gemm", "dense_ffn": "gemm",
    "routed_experts": "moe", "router": "moe", "moe_routing_kernels": "moe", "tp_collectives": "communication",
    "ep_collectives": "communication", "kv_reads": "attention", "prompt_attention": "attention",
    "elementwise": "elementwise", "fixed": "launch_host", "overhead": "launch_host", "floor": "launch_host",
    "head_and_rows": "sampling", "other": "other",
}


BODY_PARTS = PARTS[:10]  # the parts of the iteration model's body (`IterationCost.body_s`); `other` completes it


def body_part_tables(case: dict[str, Any], engine: dict[str, Any], tokens: np.ndarray,
                     body_s: np.ndarray) -> dict[str, np.ndarray]:
    """Seconds of the body of an iteration of `tokens` tokens (an array) on one engine by part (`BODY_PARTS`, x the
    layers, as `layer_work.layer_time` sums them) and `other`: `body_s` (the cost's table at those token counts)
    less the parts priced (module docstring)."""
    shape, cluster = case_shape(case), Cluster.resolve(case["system"])
    acc, fabric = cluster.accelerator, cluster.fabric
    dep = case_deployment(case, engine)
    rates = KernelRates.for_dtype(acc, "bf16")
    prec = serving_precision(acc, dep.dtype, dep.stack, engine=dep.engine,
                             block_fp8=shape.model_type in routed_experts.FP8_BLOCK_MODEL_TYPES)  # as the body's
    gemm_rates = decode_kernels.gemm_rates(acc, rates, dep.engine, dep.dtype)
    layers = stage_layers(shape, dep.pp) * dep.pp
    align = deepgemm_moe.contiguous_alignment(acc, dep.stack, dep.tp, dep.ep, dep.attention_dp, dep.dtype)
    depth = routed_experts.fp8_block_depth(acc, dep.stack, dep.dtype, shape.model_type)
    block_rate = routed_experts.fp8_block_rate_fraction(acc, dep.stack, dep.dtype, shape.model_type, dep.tp, dep.ep,
                                                        dep.attention_dp)
    fused = routed_experts.shared_expert_fused(shape, dep.engine, dep.ep)
    m = np.asarray(tokens, dtype=np.float64)
    used = m > 0  # an iteration of no tokens runs no body
    ops = layer_ops(shape, inference_layout(dep.tp, dep.ep, dep.attention_dp, m, dep.moe_tp))
    parts = {name: np.zeros_like(m) for name in BODY_PARTS}
    for g in ops.gemms:
        if g.role not in GEMM_GROUPS:  # a role of no reported part: left in `other`
            continue
        width = prec.bytes_per_element(g.m, g.n, g.k)
        rate = (prec.grouped_rate or prec.rate) if g.grouped else prec.rate
        s = routed_experts.layer_gemm_time(rates if g.grouped else gemm_rates, g, width, rate,
                                           shape.num_experts / dep.ep, align, depth, block_rate, fused)
        parts[GEMM_GROUPS[g.role]] = parts[GEMM_GROUPS[g.role]] + layers * s
    (elem,) = ops.elementwise_fwd
    parts["elementwise"] = layers * engine_kernels.elementwise_time(shape, rates, dep, m, elem)
    moe_kernels = trtllm_gen_moe.routing_kernels(acc, shape, dep.dtype, dep.engine)
    parts["moe_routing_kernels"] = layers * routed_experts.moe_routing_time(
        shape, rates, m, dep.attention_dp / dep.ep, moe_kernels)
    serving_engine = load_engine(dep.stack)
    table = release_tables.table(acc, dep.stack)
    for c in ops.collectives_fwd:
        if c.role in ("tp", "ep"):  # the EP all-to-all on the busiest GPU's bytes, as `layer_time`
            c = expert_slots.busiest_rank_collective(c, shape.num_experts / dep.ep)
            t = serving_collective_time(fabric, c, c.role == "tp" and serving_engine.custom_all_reduce_at(
                float(c.group), fabric.host_accelerators), table)
            parts[f"{c.role}_collectives"] = parts[f"{c.role}_collectives"] + layers * t
    out = {name: np.where(used, np.broadcast_to(v, m.shape), 0.0) for name, v in parts.items()}
    out["other"] = np.asarray(body_s, dtype=np.float64) - sum(out.values())  # floors, measured release tables
    return out


def decode_step_components(case: dict[str, Any], engine: dict[str, Any], sequences: int,
                           context_tokens: float) -> dict[str, float]:
    """Seconds of one pure-decode iteration of `sequences` sequences per engine at `context_tokens` cached tokens
    each, for the case's model, system and deployment, by part (module docstring); `total` is their sum."""
    shape, cluster = case_shape(case), Cluster.resolve(case["system"])
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, case_deployment(case, engine))
    n = int(sequences)
    body = body_part_tables(case, engine, np.array([float(n)]), cost.body_s[[n]])
    parts = {name: float(v[0]) for name, v in body.items()}
    parts["head_and_rows"] = float(cost.head_s[n])
    parts["kv_reads"] = cost.kv_token_s * n * context_tokens
    parts["fixed"] = cost.decode_fixed_s
    parts["overhead"] = cost.overhead_s
    parts["total"] = float(decode_time(cost, n, context_tokens))
    return parts


def operating_point_components(case: dict[str, Any], data: dict[str, Any], sequences: float | None = None,
                               context_tokens: float | None = None) -> dict[str, float]:
    """`decode_step_components` at a row's measured operating point (`operating_point.operating_point`: the batch
    by Little's law and the length-biased in-flight context), or at the `sequences` / `context_tokens` given."""
    if sequences is None or context_tokens is None:
        from infraplan.validation.operating_point import operating_point

        p = operating_point(case, data)
        sequences = p["sequences_per_engine"] if sequences is None else sequences
        context_tokens = p["decode_context_tokens"] if context_tokens is None else context_tokens
    return decode_step_components(case, data["engine"], int(round(sequences)), float(context_tokens))


def mean_step_components(case: dict[str, Any], data: dict[str, Any], point: dict[str, Any]) -> dict[str, float]:
    """Seconds of a latency row's mean step at its operating point (`point`: `operating_point.operating_point` of
    the row) by part (`LINE_GROUPS`' keys; module docstring); `total` is the point's `model_step_s`."""
    from infraplan.validation.operating_point import prompt_pairs, step_mix

    shape, cluster = case_shape(case), Cluster.resolve(case["system"])
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, case_deployment(case, data["engine"]))
    requests = case_requests(case, data["workloads"], None)
    inp = np.asarray(requests.input_tokens, dtype=np.float64)
    n = int(round(point["sequences_per_engine"]))
    f, chunk, pairs = step_mix(cost, n, point["prefill_tokens_per_step"], float(inp.mean()), prompt_pairs(inp))
    p = int(round(chunk))
    tokens = np.array([float(min(p + n, cost.max_tokens)), float(n)])
    body = body_part_tables(case, data["engine"], tokens, cost.body_s[tokens.astype(np.int64)])
    parts = {name: f * float(v[0]) + (1.0 - f) * float(v[1]) for name, v in body.items()}
    rows = len(cost.head_s) - 1
    fin = float(cost.decode_row_s[min(n + 1, rows)] - cost.decode_row_s[min(n, rows)]) if (  # the prompt's row:
        cost.decode_row_s is not None) else 0.0  # no decode attention (`IterationCost.decode_row_s`, hC65)
    parts["head_and_rows"] = (f * (float(cost.head_s[min(n + 1, rows)]) - fin)
                              + (1.0 - f) * float(cost.head_s[min(n, rows)]))
    parts["kv_reads"] = cost.kv_token_s * n * point["decode_context_tokens"]
    parts["prompt_attention"] = f * (cost.pair_s * pairs + cost.per_prefill_token_s * p)
    parts["fixed"] = (f * (cost.prefill_fixed_s - (cost.shared_fixed_s if n > 0 else 0.0)  # mixed: shared once
                           + cost.prefill_row_s * n)  # the mixed step's rows past its prompt's (`IterationCost`)
                      + (cost.decode_fixed_s if n > 0 else 0.0))
    parts["overhead"] = cost.overhead_s
    parts["floor"] = point["model_step_s"] - sum(parts.values())
    return {**parts, "total": point["model_step_s"]}


def step_line_components(points: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """A system's step line (`operating_point.step_line` of its two operating points) with each group of
    `LINE_GROUPS` as its own line: `parts` group -> (intercept s, slope s per token), summing to the model's."""
    from infraplan.validation.operating_point import line_through, step_line

    line = step_line(points)
    cases = {c["row"]: c for c in data["cases"]}
    low, high = sorted(points, key=lambda q: q["tokens_per_step"])
    split = [mean_step_components(cases[q["row"]], data, q) for q in (low, high)]
    groups: dict[str, list[float]] = {}
    for name, group in LINE_GROUPS.items():
        pair = groups.setdefault(group, [0.0, 0.0])
        pair[0], pair[1] = pair[0] + split[0][name], pair[1] + split[1][name]
    parts = {group: line_through(low, high, at_low, at_high) for group, (at_low, at_high) in groups.items()}
    return {**line, "parts": parts}
