"""LLM inference validation: published serving throughput (MLPerf, TensorRT-LLM) and measured phase times.

`run_inference_validation()` runs every case of `cases/inference.yaml` through the serving simulator with one
engine configuration and the catalog's accelerator parameters (no per-case factors) and reports
predicted vs published. The gate (issue 5): mean absolute error over the gated cases <= 15 %.
`run_inference_case` is also the runner of `cases/inference_frontier.yaml` (MLPerf v5.1, `inference_frontier`).

A case file's `engine` section holds what every case of the file shares: batch limits (`max_batch`,
`token_budget`; absent: the case's serving stack's own, `case_deployment`), `front_end` (add the stack's front-end
time per request to TTFT; default true), and the Server search's trial length and precision
(`server_min_duration_s`, default 600 s of arrivals; `server_equal_issue`: LoadGen's Server query, the whole
shuffled passes of the dataset spanning that time, `equal_issue_requests`; `server_sampled_engines`: a trial on the
fewest of its pool's independent engines that hold the dataset, exact for those engines, `trial_engines`;
`bisection_steps`, default 10; `try_offline_rate`) and its metric (`server_metric`: "scheduled", the default, rate x
mean output; "completed", MLPerf LoadGen's completed tokens/s, `validation.loadgen`) and validity (`early_stopping`:
a trial passes only within LoadGen's early-stopping bound on the requests over each limit as well as at the p99;
`validation.loadgen`); `step_scale` (default 1, no case file sets it) prices every iteration at that multiple, a
diagnostic of the scenario rules apart from the step's level (`scaled_cost`). A case may name its `stack`
(default TensorRT-LLM) and give `ep` / `attention_dp` in its deployment (wide EP); scenario `interactive` is the
Server search at its own limits.
`simulate_case` runs one case at a given request rate (used by `validation.operating_point`).

`phase_times_check()` compares the iteration model with the 1,260 Splitwise measurements (Patel et al.,
ISCA 2024) of Llama2-70B / BLOOM-176B prefill and decode on DGX A100/H100 (fp16): rank correlation and
the median ratio. Those runs used a 2023 software stack without CUDA graphs, so their absolute times sit
well above today's engines; they check shape (scaling with batch, prompt and TP), not the gate.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from infraplan.catalog import load_model, read_entry, shape_from_hf_config
from infraplan.catalog.data_files import validation_rows
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.serving_loader import Arrival, WorkloadSpec
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cluster import Cluster
from infraplan.serving.engines import deployed_budget, load_engine
from infraplan.serving.llm_iteration import Deployment, IterationCost, build_iteration_cost, decode_time, prefill_time
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import Requests, arrival_times, fixed_requests, workload_requests
from infraplan.validation.loadgen import meets_early_stopping, server_passes, server_tokens_per_s
from infraplan.validation.release_stacks import data_stack, stack_name

GATE_MEAN_ERROR = 0.15
SERVER_BISECTION_STEPS = 10
SERVER_MIN_DURATION_S = 600.0  # MLPerf Inference Server runs last at least 600 s
SPLITWISE_SYSTEMS = {"a100-80gb": "dgx-a100-superpod", "h100-80gb": "dgx-h100-superpod"}


def load_inference_cases(name: str = "inference.yaml") -> dict[str, Any]:
    """A case file of `validation/cases` (`inference.yaml`: MLPerf v4.1 and trtllm-bench; `inference_frontier.yaml`:
    MLPerf v5.1, `validation.inference_frontier`); each call gets its own copy of the file parsed once per process."""
    return copy.deepcopy(_parsed_case_file(name))


@cache
def _parsed_case_file(name: str) -> dict[str, Any]:
    """The case file parsed (package data, fixed while the process runs)."""
    return safe_load_yaml((resources.files("infraplan.validation") / "cases" / name).read_text())


def case_shape(case: dict[str, Any]) -> TransformerShape:
    if not case.get("model_overrides"):
        return load_model(case["model"])
    data, name = read_entry("models", case["model"])
    return shape_from_hf_config({**data, **case["model_overrides"]}, name)


def case_requests(case: dict[str, Any], workloads: dict[str, Any], rate: float | None, seed: int = 0) -> Requests:
    if "workload" in case:
        spec = WorkloadSpec(display_name=case["workload"], source="validation case", kind="llm",
                            **workloads[case["workload"]])
        return workload_requests(spec, case["requests"], rate, seed)
    return fixed_requests(case["requests"], case["input_len"], case["output_len"], rate, seed)


def case_stack(case: dict[str, Any]) -> str | None:
    """The case's serving stack: a shipped name, or a YAML name of the sets' own (`release_stacks.data_stack`)."""
    stack = case.get("stack")
    return data_stack(stack) if stack and stack.endswith(".yaml") else stack


def case_deployment(case: dict[str, Any], engine: dict[str, Any]) -> Deployment:
    """The case's deployment: its TP / PP / EP / attention DP and precision, replicas filling its GPUs, on the
    case's serving stack (`stack`, default TensorRT-LLM) with the file's batch limits, else the stack's own."""
    d = case["deployment"]
    profile = load_engine(case_stack(case))
    adp = d.get("attention_dp", 1)
    budget = profile.budget_on(Cluster.resolve(case["system"]).accelerator.memory_bytes, adp)  # the stack's, a rank's
    return Deployment(tp=d["tp"], pp=d["pp"], ep=d.get("ep", 1), attention_dp=adp,
                      replicas=case["gpus"] // (d["tp"] * d["pp"] * adp), dtype=d["dtype"], kv_dtype=d["kv_dtype"],
                      max_batch=engine.get("max_batch", profile.offline_max_batch),
                      token_budget=engine.get("token_budget", deployed_budget(profile.engine, budget,
                                                                               profile.offline_max_batch)),
                      engine=profile.engine, stack=profile.ref)


def simulate_case(case: dict[str, Any], engine: dict[str, Any], workloads: dict[str, Any],
                  rate: float | None) -> dict[str, Any]:
    """The serving simulator's report of `case` at `rate` requests/s (None: offline), as the Server search runs
    each trial (`validation.operating_point` runs the rows at their measured rates)."""
    return _simulate(case, engine, workloads, rate)[0]


def _simulate(case: dict[str, Any], engine: dict[str, Any], workloads: dict[str, Any], rate: float | None,
              costs: dict[str, IterationCost] | None = None):
    dataset, data_case = case["requests"], case
    equal_issue = rate is not None and bool(engine.get("server_equal_issue"))
    if rate is not None:  # long enough that an overloaded queue shows in the p99, as in a 600 s MLPerf run
        duration_s = engine.get("server_min_duration_s", SERVER_MIN_DURATION_S)
        requests = max(dataset, int(rate * duration_s))
        if equal_issue:  # LoadGen's query: the k whole passes of the dataset spanning that time
            requests = server_passes(rate, dataset, duration_s) * dataset
        case = {**case, "requests": requests}
    shape = case_shape(case)
    cluster = Cluster.resolve(case["system"])
    dep = case_deployment(case, engine)
    slo = case.get("slo", {})
    cost = None
    scale = float(engine.get("step_scale", 1.0))  # a diagnostic level of the iteration (`scaled_cost`)
    if costs is not None or scale != 1.0:  # one report's iteration-cost tables, each built once (exact inputs)
        table = costs if costs is not None else {}
        key = json.dumps([case["model"], case.get("model_overrides"), case["system"], repr(dep), scale],
                         sort_keys=True)
        if key not in table:
            table[key] = scaled_cost(build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep), scale)
        cost = table[key]
    if equal_issue and rate is not None:
        base = equal_issue_requests(data_case, workloads, rate, case["requests"] // dataset)
    else:
        base = case_requests(case, workloads, rate)
    if rate is not None and engine.get("server_sampled_engines"):  # the trial on the fewest engines that hold a
        base, dep = trial_engines(base, dep, dataset)  # dataset's worth of its requests (speed; `trial_engines`)
    kwargs: dict[str, Any] = {"ttft_slo_s": slo.get("ttft_s"), "tpot_slo_s": slo.get("tpot_s"),
                              "front_end": engine.get("front_end", True), "cost": cost}
    report = simulate_deployment(shape, cluster, dep, base, **kwargs)
    rules = {**engine, **case}  # an MLPerf case's own run rules over the file's (trtllm-bench cases: one pass)
    minimum_s = rules.get("offline_min_duration_s", 0.0) if rate is None else 0.0
    slack = rules.get("offline_query_slack")  # LoadGen's Offline query at the run's own rate (`loadgen_passes`)
    tiles = round(minimum_s / report["duration_s"]) if minimum_s and slack is None else 1  # whole passes
    if tiles > 1 or (slack is not None and report["duration_s"] < slack * minimum_s):  # steady passes, two-pass run
        two = Requests(np.tile(base.arrival_s, 2), np.tile(base.input_tokens, 2), np.tile(base.output_tokens, 2))
        both = simulate_deployment(shape, cluster, dep, two, **kwargs)
        if slack is not None:
            tiles = loadgen_passes(report["duration_s"], both["duration_s"] - report["duration_s"], slack * minimum_s)
        report = offline_passes(report, both, tiles) if tiles > 1 else report
    return report, dep


_TIME_TERMS = ("body_s", "head_s", "kv_token_s", "pair_s", "prefill_fixed_s", "decode_fixed_s", "shared_fixed_s",
               "prefill_row_s", "overhead_s", "per_prefill_token_s", "per_finish_s", "host_issue_s",
               "host_per_sequence_s", "prefill_clean_s", "short_prefix_fixed_s")


def scaled_cost(cost: IterationCost, scale: float) -> IterationCost:
    """`cost` with every seconds term x `scale` (the lock-step ranks' routed-expert and stall terms in `extra` too;
    the tensor-core terms unchanged): a case file's `engine.step_scale`, the diagnostic that runs the scenario rules
    on an iteration priced at another level (`validation.scenario_rule_checks.step_level_check`). 1: `cost` itself."""
    if scale == 1.0:
        return cost
    extra = dict(cost.extra)
    if "routed_s" in extra:
        extra["routed_s"] = np.asarray(extra["routed_s"]) * scale
    if "stall" in extra:
        token_s, pair_s, others = extra["stall"]
        extra["stall"] = (token_s * scale, pair_s * scale, others)
    pair_d, token_d, fixed_d = cost.short_prefill_terms  # SGLang's short DSA extend's seconds
    short = (pair_d * scale, token_d * scale, fixed_d * scale)
    pair_x, key_x, kept, once = cost.short_extend_terms  # its mixed / cached-key terms (hO64), rows (a share, hC66)
    extend = (pair_x * scale, key_x * scale, kept, once * scale)
    rows = None if cost.decode_row_s is None else cost.decode_row_s * scale  # (the part of head_s, hC65)
    return replace(cost, extra=extra, short_prefill_terms=short, short_extend_terms=extend, decode_row_s=rows,
                   **{name: getattr(cost, name) * scale for name in _TIME_TERMS})


def equal_issue_requests(case: dict[str, Any], workloads: dict[str, Any], rate_per_s: float, passes: int,
                         seed: int = 0) -> Requests:
    """A Server run's samples as LoadGen issues them in equal-issue mode (the case file's `server_equal_issue`;
    `validation.loadgen`: loadgen.cc:316-332 and 401-406, `sample_concatenate_permutation = 1` for every LLM
    benchmark): `passes` whole passes of the case's dataset (its `requests` samples, the lengths its Offline run
    draws with `seed`), each pass in its own shuffled order, at Poisson arrivals of `rate_per_s`
    (loadgen.cc:201-208)."""
    data = case_requests(case, workloads, None, seed)
    n = len(data.input_tokens)
    rng = np.random.default_rng([seed, passes])
    order = np.concatenate([rng.permutation(n) for _ in range(passes)])
    arrivals = arrival_times(passes * n, rate_per_s, Arrival(process="poisson"), rng)
    return Requests(arrivals, data.input_tokens[order], data.output_tokens[order])


def trial_engines(requests: Requests, dep: Deployment, least: int) -> tuple[Requests, Deployment]:
    """A Server trial's requests and deployment on the fewest of the pool's E engines that serve at least `least`
    of its requests (the case file's `server_sampled_engines`: the dataset, what a trial held before its 600 s).
    The pool deals the arrival-sorted requests round robin (`serving_sim.run_pool`: engine e serves requests e,
    e + E, ...) and each engine runs on its own, so the requests with index mod E < k on a deployment of k replicas
    give those k engines' first-token and finish times exactly (tests/validation/test_inference_frontier.py); the
    trial's percentiles, over-limit shares and means are then theirs, a sample of the pool's alike engines. Only
    where the engines are independent: one a replica (PP 1, no attention DP, whose ranks step together)."""
    pool, n = dep.replicas * dep.engines_per_replica, len(requests)
    engines = -(-pool * min(least, n) // n) if n else pool
    if engines >= pool or dep.engines_per_replica != 1:
        return requests, dep
    keep = np.arange(n) % pool < engines
    kept = Requests(requests.arrival_s[keep], requests.input_tokens[keep], requests.output_tokens[keep])
    return kept, replace(dep, replicas=engines)


def loadgen_passes(first_pass_s: float, steady_pass_s: float, query_s: float) -> int:
    """Whole passes of an Offline run as LoadGen sizes its query with the run's own rate as the expected QPS: the
    least k whose run, the first pass and k - 1 steady ones, lasts `query_s` (kSlack x min_duration) or longer
    (`validation.loadgen`, Offline)."""
    if first_pass_s >= query_s or steady_pass_s <= 0.0:
        return 1
    return 1 + int(np.ceil((query_s - first_pass_s) / steady_pass_s - 1e-9))


RATE_FIELDS = ("output_tokens_per_s", "output_tokens_per_s_per_gpu", "input_tokens_per_s", "requests_per_s")


def offline_passes(one: dict[str, Any], two: dict[str, Any], passes: int) -> dict[str, Any]:
    """An Offline run of `passes` whole passes of the samples, from the runs of one and two: with every request
    queued at t = 0 the engine stays full from pass to pass, so each pass after the first adds what the second
    added (its steady time; the first carries the ramp-up, the last the ramp-down). Totals and rates scale; the
    per-request percentiles and means are the two-pass run's (the steady passes repeat its mix)."""
    steady_s = two["duration_s"] - one["duration_s"]
    duration = one["duration_s"] + (passes - 1) * steady_s
    scaled = {key: one[key] * one["duration_s"] * passes / duration for key in RATE_FIELDS}
    return {**two, **scaled, "requests": one["requests"] * passes, "duration_s": duration}


_SCENARIO_FIELDS = ("id", "row", "source", "scenario", "slo", "measured", "assumed", "published", "known_gap")


def case_offline_run(case: dict[str, Any], engine: dict[str, Any], workloads: dict[str, Any],
                     memo: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """The case's offline run; with `memo` (one report's runs) shared by the cases that differ only in scenario,
    limits and published value (an Offline row and the Server search's upper bracket), keyed by everything else."""
    run = {k: v for k, v in case.items() if k not in _SCENARIO_FIELDS}
    if memo is None:
        return _simulate(run, engine, workloads, None)[0]
    key = json.dumps([run, engine, workloads.get(case.get("workload", ""))], sort_keys=True, default=str)
    if key not in memo:
        memo[key] = _simulate(run, engine, workloads, None, _costs(memo))[0]
    return copy.deepcopy(memo[key])


_COSTS_KEY = "iteration costs"  # the memo's entry holding its report's iteration-cost tables (other keys: JSON lists)


def _costs(memo: dict[str, dict[str, Any]] | None) -> dict[str, IterationCost] | None:
    """The iteration-cost tables of one report's `memo` (None without a memo: each run builds its own)."""
    return None if memo is None else memo.setdefault(_COSTS_KEY, {})


def case_server_rate(case: dict[str, Any], engine: dict[str, Any], workloads: dict[str, Any],
                     memo: dict[str, dict[str, Any]] | None = None) -> tuple[float, dict]:
    """Highest Poisson rate (requests/s) whose p99 TTFT and TPOT meet the case's SLOs (bisection between 0 and the
    offline rate; with the file's `try_offline_rate` the offline rate itself is tried first), and the passing trial's
    report with that bracket as `offline_requests_per_s` (a prediction equal to it: the limits hold at saturation) and
    the offline run's mean output as `dataset_mean_output_tokens` (a LoadGen Server run issues whole passes of the
    dataset, equal-issue mode, so its tokens are the dataset's; a trial draws its own lengths)."""
    offline = case_offline_run(case, engine, workloads, memo)
    low, high = 0.0, offline["requests_per_s"]
    best = offline
    bracket = {"offline_requests_per_s": high, "dataset_mean_output_tokens": offline["mean_output_tokens"]}
    dataset = case["requests"] if engine.get("early_stopping") else None  # LoadGen's early stopping on
    if engine.get("try_offline_rate"):
        r, _ = _simulate(case, engine, workloads, high, _costs(memo))
        if case_meets_slo(r, case["slo"], high, dataset):
            return high, {**r, **bracket}
    for _ in range(engine.get("bisection_steps", SERVER_BISECTION_STEPS)):
        mid = (low + high) / 2.0
        r, _ = _simulate(case, engine, workloads, mid, _costs(memo))
        if case_meets_slo(r, case["slo"], mid, dataset):
            low, best = mid, r
        else:
            high = mid
    return low, {**best, **bracket}


def case_meets_slo(result: dict[str, Any], slo: dict[str, float], rate_per_s: float = 0.0,
                   dataset: int | None = None) -> bool:
    """The trial's p99 TTFT and TPOT within the limits and, with `dataset` (the file's `early_stopping`), LoadGen's
    early-stopping bound on the requests over each limit (`validation.loadgen.meets_early_stopping`)."""
    p99 = bool(result["ttft_s"]["p99"] <= slo["ttft_s"] and result["tpot_s"]["p99"] <= slo["tpot_s"])
    return p99 and (dataset is None or meets_early_stopping(result, rate_per_s, dataset))


def run_inference_case(case: dict[str, Any], engine: dict[str, Any], workloads: dict[str, Any],
                       memo: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One case predicted vs published; `memo`: a dict the caller keeps for one report, so that cases differing
    only in scenario share their offline run (`case_offline_run`)."""
    if case["scenario"] in ("server", "interactive"):  # interactive: the server search at tighter SLOs
        rate, result = case_server_rate(case, engine, workloads, memo)
        # `server_metric` (file's engine): "scheduled" (default) rate x mean output, "completed" LoadGen's own
        issued = {**result, "mean_output_tokens": result["dataset_mean_output_tokens"]}  # whole passes (above)
        predicted = server_tokens_per_s(rate, issued, case["requests"], engine.get("server_metric", "scheduled"))
        detail = {"rate_per_s": rate, "ttft_p99_s": result["ttft_s"]["p99"], "tpot_p99_s": result["tpot_s"]["p99"],
                  "offline_rate_per_s": result["offline_requests_per_s"]}  # the search's upper bracket
    else:
        result = case_offline_run(case, engine, workloads, memo)
        predicted = result[case["metric"]]
        detail = {"tpot_p50_s": result["tpot_s"]["p50"]}
    return {
        "id": case["id"], "metric": case["metric"], "scenario": case["scenario"], "published": case["published"],
        "predicted": float(predicted), "error": float(predicted) / case["published"] - 1.0,
        "deployment": result["deployment"], "detail": detail, "gated": "known_gap" not in case,
        "known_gap": case.get("known_gap"), "assumed": case.get("assumed"), "source": case["source"],
        "stack": stack_name(case_deployment(case, engine).stack),  # the profile the deployment ran
    }


def phase_times_check() -> dict[str, Any]:
    """Iteration model vs the Splitwise measured prefill and decode times (A100/H100, fp16): computed once per
    process (the `validate` report and the tests share it), each call gets its own copy."""
    return copy.deepcopy(_phase_times())


@cache
def _phase_times() -> dict[str, Any]:
    rows = validation_rows("splitwise_measured.csv")
    out: dict[str, Any] = {}
    costs: dict[tuple[str, str, int], Any] = {}
    for phase in ("prefill", "decode"):
        predicted, measured = [], []
        for r in rows:
            if r["hardware"] not in SPLITWISE_SYSTEMS:
                continue
            tp = int(r["tensor_parallel"])
            key = (r["model"], r["hardware"], tp)
            if key not in costs:
                cluster = Cluster.resolve(SPLITWISE_SYSTEMS[r["hardware"]])
                costs[key] = build_iteration_cost(load_model(r["model"]), cluster.accelerator, cluster.fabric,
                                                  Deployment(tp=tp, max_batch=64, token_budget=64 * 8192))
            b, p, t = int(r["batch_size"]), int(r["prompt_size"]), int(r["token_size"])
            if phase == "prefill":
                predicted.append(float(prefill_time(costs[key], b, p)))
                measured.append(float(r["prompt_time"]) / 1e3)
            else:
                predicted.append(float(decode_time(costs[key], b, p + t / 2)))
                measured.append(float(r["token_time"]) / 1e3)
        ratio = np.array(predicted) / np.array(measured)
        out[phase] = {"rows": len(ratio), "spearman": float(spearmanr(predicted, measured).statistic),
                      "median_predicted_over_measured": float(np.median(ratio))}
    return out


def run_inference_validation(include_phase_times: bool = True) -> dict[str, Any]:
    """Every inference case, predicted vs published, with the gate summary (computed once per process and
    argument; each call gets its own copy)."""
    return copy.deepcopy(inference_report(include_phase_times))


@cache
def inference_report(include_phase_times: bool) -> dict[str, Any]:
    """The inference report, computed once per process and argument: the cached dict itself, shared (callers copy
    before changing it: `run_inference_validation`)."""
    data = load_inference_cases()
    memo: dict[str, dict[str, Any]] = {}  # each offline run and iteration-cost table once per report
    rows = [run_inference_case(c, data["engine"], data.get("workloads", {}), memo) for c in data["cases"]]
    gated = [abs(r["error"]) for r in rows if r["gated"]]
    every = [abs(r["error"]) for r in rows]
    summary = {
        "gated_cases": len(gated), "mean_abs_error": float(np.mean(gated)), "max_abs_error": float(np.max(gated)),
        "all_cases": len(every), "mean_abs_error_all": float(np.mean(every)),
        "gate": {"mean": GATE_MEAN_ERROR}, "engine": data["engine"],
    }
    summary["passes_gate"] = summary["mean_abs_error"] <= GATE_MEAN_ERROR
    out: dict[str, Any] = {"cases": rows, "summary": summary}
    if include_phase_times:
        out["phase_times"] = phase_times_check()
    return out
