"""The iteration model at the operating point a latency-bound MLPerf row was measured at (Little's law).

A Server / Interactive row of `cases/inference_frontier.yaml` publishes, besides its tokens/s, the run's TTFT and
TPOT mean and p99 (`measured`, from the run's mlperf_log_summary.txt). The throughput and the mean TPOT pin the
batch the engine ran (Little's law, L = lambda W; Little 1961): with `r` requests/s per engine (the published
output tokens/s over the workload's mean output, split evenly over the deployment's engines), mean input `I` and
output `O` tokens and mean step time `t` (= the mean TPOT: one decode token per sequence per step),

* sequences decoding in a step:  N = r x O x t,
* prompt tokens prefilled per step (every prompt token is prefilled in some step):  P = r x I x t,

each decoding sequence holding C cached tokens on average. C is length-biased (the inspection paradox of renewal
theory; Feller, An Introduction to Probability Theory, vol. II, ch. XI.4): a sequence is in flight for a time
proportional to its output O, so the sequences decoding at a given moment over-represent the long outputs, each at a
uniformly spread point of its own decode, and C = E[O (I + O / 2)] / E[O] = E[I] + E[O^2] / (2 E[O]) for independent
lengths, not E[I] + E[O] / 2. The two differ by Var[O] / (2 E[O]): nothing for fixed lengths, 1.9x the output
half for DeepSeek-R1's reasoning outputs (lognormal sigma 0.9: C 4,453 against 2,708 tokens; OpenOrca 496 against
440, the others within 6 %). The iteration model (`serving.llm_iteration`) then
prices that step with no queueing model and no latency search in the way: the mean of its step time over
steps, prefill arriving in chunks of the engine's FCFS scheduler (`serving.schedulers`: a prompt's chunk is at
most the token budget left after the decode tokens), is

    step = f x T(chunk + N) + (1 - f) x T(N),   chunk = min(I, budget - N),   f = min(1, P / chunk)

(when P exceeds one chunk every step carries P prompt tokens). `step / measured TPOT mean` < 1 says the model's
iteration at the batch the engine really ran is faster than measured, so its latency search reaches a higher
rate before the TPOT limit binds, whatever the scheduler; near 1 with the row still off puts the error in the
throughput at saturation or in the queueing (TTFT). `idle_prefill_s` is the model's TTFT floor: the mean prompt
prefilled alone in budget-sized chunks, against the measured TTFT mean (which includes the queueing).
`at_measured_rate`: the serving simulator run at the row's measured request rate (Poisson, the Server trial of
`validation.inference`), its TTFT / TPOT mean and p99 next to the measured ones: which limit the model binds on
at the load the engine really carried, and by how much. `at_scheduled_rate`: the same at the arrival rate LoadGen
scheduled (`validation.loadgen.scheduled_rate_per_s`: the published completed tokens/s read backwards, the last
query's latency from the row's TTFT mean + (mean output - 1) x its TPOT mean; x1.39 for DeepSeek-R1, whose 252 s
tail counts in its completed tokens/s, x1.00-1.06 for the others).

Two operating points of one system as a line: `step_lines` (below; merged from `validation.step_lines` by hR62,
moves only, its docstring last); the scenario rules and the step's level checked apart (LoadGen's Offline run
length, the Server bracket, the step level): `validation.scenario_rule_checks`.

KV occupancy (`kv_occupancy`): the rows state the system, not the layout; a row's own operating point (its
sequences at the scheduled rate, each holding the length-biased context) must fit its layout's KV pool. DeepSeek-R1
Server (H077) holds 0.30 of the attention-DP 8 pool and would need 2.15x the pool with TP8 attention (the latent
replicated on every GPU): the row rules TP8 attention out. Llama 2 70B B200 Server (H105) holds 0.98 of TP1's.

Mean-field: steps are taken as equal-length decode cadences and prompts as their mean length, which
understates long-prompt lumps (Jensen: the step time is convex in the tokens at small batches). Diagnostic only:
nothing here feeds the scoring or the error bands.

Two operating points of one model and system as a line: the step time against the tokens per step.

Each point is a latency-bound MLPerf row at its measured operating point (`validation.operating_point`: the batch
the engine ran by Little's law, the model's mean step there).

Step lines (`step_lines`): a model and system measured in two scenarios (Server and Interactive) give two such
operating points, and since a workload fixes P / N = I / O, the step is a function of the tokens per step M = N + P
along one line. Through the two measured points, t = a + b M: `b` the seconds each token of the workload's mix adds
to a step, `a` what a step costs whatever its tokens (weights read once, launches, host); the same two-point line
through the model's steps at the same M separates a wrong per-token cost (slope) from a missing fixed cost per step
(intercept). Two points, no fit freedom; it assumes the line, so a curved step (Jensen:
`validation.operating_point`'s mean-field note) shows up in both. `step_line_offline_check` extends each line to its
system's Offline row: at the model's own Offline batch N (its output tokens/s per engine x its median TPOT), M = N
(1 + I / O), the line's step gives N x engines / step output tokens/s against the published Offline rate. Where the
measured line meets it, the system's three scenarios are one engine whose step is that line, and the model's Offline
error is its own step line's, not the scenario rules (hP session 51: within -7 / +8 % on five of the six systems;
Llama 3.1 8B B200 +27 % at the model's 8,036-token steps, -1 % at 4,096:
validation/notes/inference_frontier_tried.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.kv_cache import kv_capacity
from infraplan.serving.llm_iteration import IterationCost, build_iteration_cost
from infraplan.validation.inference import case_deployment, case_offline_run, case_requests, case_shape, simulate_case
from infraplan.validation.loadgen import scheduled_rate_per_s


def step_mix(cost: IterationCost, sequences: float, prefill_per_step: float, prompt_tokens: float,
             mean_prompt_pairs: float) -> tuple[float, float, float]:
    """The mean step's mix (module docstring): the fraction f of steps that carry a prompt chunk, the chunk's
    prompt tokens and their (query, key) pairs."""
    budget_left = max(cost.max_tokens - int(round(sequences)), 1)
    chunk = float(min(prompt_tokens, budget_left))
    fraction = min(1.0, prefill_per_step / chunk) if chunk > 0 else 0.0
    tokens = max(prefill_per_step, chunk) if fraction >= 1.0 else chunk
    return fraction, tokens, mean_prompt_pairs * tokens / prompt_tokens


def mean_step_s(cost: IterationCost, sequences: float, prefill_per_step: float, prompt_tokens: float,
                context_tokens: float, mean_prompt_pairs: float) -> float:
    """Mean seconds of one step with `sequences` decoding and `prefill_per_step` prompt tokens per step on
    average, prefill arriving in FCFS chunks of at most the budget left (module docstring)."""
    n = int(round(sequences))
    fraction, tokens, pairs = step_mix(cost, sequences, prefill_per_step, prompt_tokens, mean_prompt_pairs)
    with_chunk = float(cost.time(int(round(tokens)), n, n * context_tokens, pairs))
    decode_only = float(cost.time(0, n, n * context_tokens, 0.0))
    return fraction * with_chunk + (1.0 - fraction) * decode_only


def prompt_pairs(input_tokens: np.ndarray) -> float:
    """Mean (query, key) pairs a prompt's causal prefill attends, I (I + 1) / 2 over the requests' inputs."""
    inp = np.asarray(input_tokens, dtype=np.float64)
    return float(np.mean(inp * (inp + 1.0) / 2.0))


def in_flight_context(input_tokens: np.ndarray, output_tokens: np.ndarray) -> float:
    """Mean cached tokens of the sequences decoding at a random moment: each request weighted by its output (its
    time in flight), at a uniformly spread point of its decode, E[O (I + O / 2)] / E[O] (module docstring)."""
    inp = np.asarray(input_tokens, dtype=np.float64)
    out = np.asarray(output_tokens, dtype=np.float64)
    return float(np.mean(out * (inp + out / 2.0)) / np.mean(out))


def idle_prefill_s(cost: IterationCost, prompt_tokens: float) -> float:
    """Seconds to prefill one prompt alone on an idle engine, in chunks of the token budget."""
    left, done, total = int(round(prompt_tokens)), 0, 0.0
    while left > 0:
        c = min(left, cost.max_tokens)
        total += float(cost.time(c, 0, 0, c * (done + (c + 1) / 2.0), rows=1))
        left, done = left - c, done + c
    return total


def operating_point(case: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """One measured Server / Interactive row at its measured operating point (module docstring)."""
    measured = case["measured"]
    shape = case_shape(case)
    cluster = Cluster.resolve(case["system"])
    dep = case_deployment(case, data["engine"])
    requests = case_requests(case, data["workloads"], None)
    inp = np.asarray(requests.input_tokens, dtype=np.float64)
    out = np.asarray(requests.output_tokens, dtype=np.float64)
    mean_in, mean_out = float(inp.mean()), float(out.mean())
    engines = dep.replicas * dep.engines_per_replica
    rate_per_engine = case["published"] / mean_out / engines
    tpot_s = float(measured["tpot_mean_s"])
    sequences = rate_per_engine * mean_out * tpot_s
    prefill = rate_per_engine * mean_in * tpot_s
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep)
    pairs = prompt_pairs(inp)
    context = in_flight_context(inp, out)
    step = mean_step_s(cost, sequences, prefill, mean_in, context, pairs)
    decode = float(cost.time(0, int(round(sequences)), round(sequences) * context, 0.0))
    floor = idle_prefill_s(cost, mean_in)
    sim = simulate_case(case, data["engine"], data["workloads"], rate_per_engine * engines)
    last_s = float(measured["ttft_mean_s"]) + (mean_out - 1.0) * tpot_s  # the last query's latency (docstring)
    scheduled = scheduled_rate_per_s(case["published"], case["requests"], mean_out, last_s)
    at_scheduled = simulate_case(case, data["engine"], data["workloads"], scheduled)
    return {
        "row": case["row"], "id": case["id"], "scenario": case["scenario"], "engines": engines,
        "model": case["model"], "system": case["system"],
        "requests_per_s_per_engine": rate_per_engine, "sequences_per_engine": sequences,
        "prefill_tokens_per_step": prefill, "decode_context_tokens": context, "tokens_per_step": sequences + prefill,
        "model_step_s": step, "model_decode_only_step_s": decode,
        "measured_tpot_mean_s": tpot_s, "step_over_measured": step / tpot_s,
        "model_idle_prefill_s": floor, "measured_ttft_mean_s": float(measured["ttft_mean_s"]),
        "at_measured_rate": {f"{k}_{q}_s": (float(sim[f"{k}_s"][q]), float(measured[f"{k}_{q}_s"]))
                             for k in ("ttft", "tpot") for q in ("mean", "p99")},
        "scheduled_requests_per_s": scheduled,
        "at_scheduled_rate": {f"{k}_{q}_s": (float(at_scheduled[f"{k}_s"][q]), float(measured[f"{k}_{q}_s"]))
                              for k in ("ttft", "tpot") for q in ("mean", "p99")},
    }


def kv_occupancy(case: dict[str, Any], data: dict[str, Any], deployment: dict[str, Any] | None = None) -> float:
    """The share of one engine's KV pool (`serving.kv_cache.kv_capacity`) a latency row's own operating point holds:
    its sequences per engine at the arrival rate LoadGen scheduled (`scheduled_rate_per_s`, the last query at the
    row's TTFT mean + (mean output - 1) x TPOT mean) times the length-biased context (`in_flight_context`), the
    case's layout or `deployment` (case-file keys over it). Above 1 the layout cannot hold what the row ran: the
    row rules it out (a check of the case file's layout ASSUMPTION by the row's own numbers)."""
    layout = {**case, "deployment": {**case["deployment"], **(deployment or {})}}
    measured, dep = case["measured"], case_deployment(layout, data["engine"])
    requests = case_requests(case, data["workloads"], None)
    inp = np.asarray(requests.input_tokens, dtype=np.float64)
    out = np.asarray(requests.output_tokens, dtype=np.float64)
    last_s = float(measured["ttft_mean_s"]) + (float(out.mean()) - 1.0) * float(measured["tpot_mean_s"])
    rate = scheduled_rate_per_s(case["published"], case["requests"], float(out.mean()), last_s)
    sequences = rate * float(out.mean()) * float(measured["tpot_mean_s"]) / (dep.replicas * dep.engines_per_replica)
    pool = kv_capacity(case_shape(case), Cluster.resolve(case["system"]).accelerator, dep.tp, dep.pp, dep.dtype,
                       dep.kv_dtype, dep.token_budget, dep.max_batch, engine=dep.engine, ep=dep.expert_shards)
    return sequences * in_flight_context(inp, out) / pool.tokens


def operating_points(data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every row of the frontier case file that states its measured latencies, at its operating point."""
    if data is None:
        from infraplan.validation.inference_frontier import load_frontier_cases

        data = load_frontier_cases()
    return [operating_point(c, data) for c in data["cases"] if "measured" in c]


def step_line(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The two-point step line t = a + b M (module docstring, "Step lines") through two operating points of one
    model and system, measured (the rows' TPOT means) and modelled (the model's steps at the same tokens)."""
    if len(points) != 2 or len({(p["model"], p["system"]) for p in points}) != 1:
        raise InputError("a step line takes two operating points of one model and system")
    low, high = sorted(points, key=lambda p: p["tokens_per_step"])
    line: dict[str, Any] = {"model": low["model"], "system": low["system"], "rows": (low["row"], high["row"]),
                            "tokens_per_step": (low["tokens_per_step"], high["tokens_per_step"])}
    for name, key in (("measured", "measured_tpot_mean_s"), ("model", "model_step_s")):
        line[f"{name}_fixed_s"], line[f"{name}_per_token_s"] = line_through(low, high, low[key], high[key])
    return line


def line_through(low: dict[str, Any], high: dict[str, Any], at_low: float, at_high: float) -> tuple[float, float]:
    """(intercept s, slope s per token) of the line through a quantity's values at two operating points' tokens per
    step (`step_line`; each part's line in `validation.step_components.step_line_components`)."""
    slope = (at_high - at_low) / (high["tokens_per_step"] - low["tokens_per_step"])
    return at_low - slope * low["tokens_per_step"], slope


def two_point_groups(points: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The operating points of every model and system that has exactly two (Server and Interactive)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in points:
        groups.setdefault((p["model"], p["system"]), []).append(p)
    return [g for g in groups.values() if len(g) == 2]


def step_lines(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every model and system with exactly two latency-bound operating points (Server and Interactive), as a line."""
    return [step_line(g) for g in two_point_groups(points)]


def step_line_offline_check(line: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A step line (`step_line`) extended to its system's Offline row at the model's Offline batch (module docstring,
    "Step lines"): for the measured and the modelled line, the step there and its output tokens/s over the published."""
    offline = [c for c in data["cases"] if c["scenario"] == "offline"
               and (c["model"], c["system"]) == (line["model"], line["system"])]
    if len(offline) != 1:
        raise InputError(f"no single Offline row for {line['model']} on {line['system']}")
    case, engine = offline[0], data["engine"]
    dep = case_deployment(case, engine)
    engines = dep.replicas * dep.engines_per_replica
    run = case_offline_run(case, engine, data["workloads"], None)
    sequences = run["output_tokens_per_s"] / engines * run["tpot_s"]["p50"]
    base = case_requests(case, data["workloads"], None)
    tokens = sequences * (1.0 + float(np.mean(base.input_tokens)) / float(np.mean(base.output_tokens)))
    published = float(case["published"])
    out: dict[str, Any] = {"row": case["row"], "sequences_per_engine": sequences, "tokens_per_step": tokens}
    for name in ("measured", "model"):
        step = line[f"{name}_fixed_s"] + line[f"{name}_per_token_s"] * tokens
        out[f"{name}_step_s"] = step
        out[f"{name}_over_published"] = sequences * engines / step / published
    return out
