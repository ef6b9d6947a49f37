"""MLPerf's scenario rules checked apart from the step: LoadGen's Offline run length, the Server search's bracket,
and the rows of one system with the step priced at another level.

Diagnostics of the frontier case file's rows (`cases/inference_frontier.yaml`, run by `validation.inference`), as
`validation.operating_point`'s; nothing here feeds the scoring or the error bands.

Offline run length (`offline_passes_check`): LoadGen sizes an Offline query as max(min_query_count, kSlack x
min_duration x target_qps) samples, kSlack = 1.1 (mlcommons-loadgen 6.0.17 test_settings_internal.cc:146-158), and in
equal-issue mode (`sample_concatenate_permutation = 1` for every LLM benchmark, mlperf.conf:66-81) pads it to whole
passes of the loaded set (loadgen.cc:316-324). At the row's own rate as the target (a valid run lasts >= 600 s) that
gives the passes the measured run held, next to the model's first-pass rate (ramp-up and ramp-down included) and its
steady-pass rate (a two-pass run less the first, as `validation.inference.offline_passes`). The runner sizes the
model's own Offline runs the same way at the model's rate (`validation.inference.loadgen_passes`, Round 11 of
validation/notes/inference_frontier_tried.md); this check reads the measured run's at the published rate.

Server bracket (`server_bracket_check`): the Server search (`validation.inference.case_server_rate`) bisects between 0
and the offline rate and tries the offline rate first, so a row's prediction is either the highest rate whose p99
TTFT and TPOT (and early stopping) hold in the file's trial, or the offline rate itself (`capped`: the limits still
hold at the engine's saturated throughput). The check re-runs that rate, and a capped row at `overload` x the offline
rate, as a trial of LoadGen's length (Poisson arrivals over >= 600 s and >= the dataset: mlperf.conf
*.Server.min_duration 600000 ms and min_query_count, mlcommons-loadgen 5.1.2 lines 85 and 151-157), where a queue fed
past saturation grows for 600 s. The file's trials were shorter for the fast rows until hV51 (the dataset alone: 9-30
s of arrivals for Llama 3.1 8B / Mixtral); they now last 600 s too (`server_min_duration_s`), on a sample of the
pool's engines (`validation.inference.trial_engines`, exact for those engines), as the check's re-runs do.

Step level (`step_level_check`): the Server / Interactive search (the scenario rules: LoadGen's Poisson trials,
limits, early stopping and metric, the engine's FCFS chunked scheduler, the workload's lengths) run apart from the
level of the step. Every seconds term of the iteration is priced x s (`validation.inference.scaled_cost`), s the
level at which the system's Offline row is exact (`offline_level`: the Offline rate is the engine's tokens per
second of its own steps, so about its prediction / published; a power law through two runs), and each latency
row's tokens/s over its Offline row's (S/O) is compared with the measured S/O. Where they agree the row's error is
the step's level, amplified by the limits; where they do not, the rules or the shape of the step over its batch
are. hP80 (session 50, validation/notes/inference_frontier_tried.md): Llama 3.1 405B H200 S/O 0.503 / 0.333 at s =
0.80 (measured 0.534 / 0.367; 0.367 / 0.115 at s = 1), B200 Server 0.763 (0.764), while the B200 Interactive rows
stay above the measured at every s (a small-batch step too cheap against the large-batch one) and DeepSeek-R1's
Server stays capped at its Offline rate (its search never binds a limit).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import Requests
from infraplan.validation.inference import (
    case_deployment,
    case_meets_slo,
    case_offline_run,
    case_requests,
    case_server_rate,
    case_shape,
    run_inference_case,
    simulate_case,
)

LOADGEN_OFFLINE_SLACK = 1.1  # kSlack of LoadGen's Offline query size (test_settings_internal.cc:150)
LOADGEN_SERVER_S = 600.0  # *.Server.min_duration = 600000 ms (mlperf.conf:85)


def loadgen_offline_passes(queries_per_s: float, dataset: int, min_duration_s: float = 600.0) -> int:
    """Whole passes of a `dataset`-sample set in LoadGen's Offline query at `queries_per_s` as its target_qps, in
    equal-issue mode (module docstring, "Offline run length")."""
    samples = max(dataset, int(LOADGEN_OFFLINE_SLACK * min_duration_s * queries_per_s))
    return -(-samples // dataset)


def offline_passes_check(case: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """One Offline row: the passes LoadGen gave the measured run, and the model's first-pass and steady-pass output
    tokens/s against the published rate (module docstring, "Offline run length")."""
    if case["scenario"] != "offline":
        raise InputError(f"{case['row']} is not an Offline row")
    engine = data["engine"]
    shape, cluster = case_shape(case), Cluster.resolve(case["system"])
    dep = case_deployment(case, engine)
    base = case_requests(case, data["workloads"], None)
    mean_out = float(np.mean(base.output_tokens))
    passes = loadgen_offline_passes(case["published"] / mean_out, case["requests"],
                                    engine.get("offline_min_duration_s", 600.0))
    two = Requests(*(np.tile(a, 2) for a in (base.arrival_s, base.input_tokens, base.output_tokens)))
    front_end = engine.get("front_end", True)
    first = simulate_deployment(shape, cluster, dep, base, front_end=front_end)
    both = simulate_deployment(shape, cluster, dep, two, front_end=front_end)
    steady_s = both["duration_s"] - first["duration_s"]
    tokens = float(np.sum(base.output_tokens))
    published = float(case["published"])
    return {"row": case["row"], "id": case["id"], "measured_passes": passes,
            "measured_pass_s": tokens / published, "model_first_pass_s": first["duration_s"],
            "model_steady_pass_s": steady_s, "first_pass_over_published": tokens / first["duration_s"] / published,
            "steady_over_published": tokens / steady_s / published}


def server_bracket_check(case: dict[str, Any], data: dict[str, Any], overload: float = 1.1,
                         trial_s: float = LOADGEN_SERVER_S) -> dict[str, Any]:
    """One Server / Interactive row's predicted rate against its upper bracket, the offline rate, and re-run as a
    trial of LoadGen's length (module docstring, "Server bracket"): `valid_at_loadgen_length` whether its limits
    hold there; for a capped row also `overload_valid` at `overload` x the offline rate (False: the cap is the
    engine's saturation, not a rate the search left untried)."""
    if case["scenario"] not in ("server", "interactive"):
        raise InputError(f"{case['row']} is not a Server / Interactive row")
    engine, workloads = data["engine"], data["workloads"]
    memo: dict[str, dict[str, Any]] = {}
    offline = case_offline_run(case, engine, workloads, memo)["requests_per_s"]
    rate, trial = case_server_rate(case, engine, workloads, memo)
    long = {**engine, "server_min_duration_s": trial_s}
    dataset = case["requests"] if engine.get("early_stopping") else None

    def verdict(at: float) -> tuple[bool, dict[str, Any]]:
        run = simulate_case(case, long, workloads, at)
        return case_meets_slo(run, case["slo"], at, dataset), run

    valid, run = verdict(rate)
    out: dict[str, Any] = {
        "row": case["row"], "id": case["id"], "offline_rate_per_s": offline, "rate_per_s": rate,
        "capped": bool(rate >= offline), "trial_requests": trial["requests"], "loadgen_requests": run["requests"],
        "valid_at_loadgen_length": valid,
        "p99_s": {"trial": (trial["ttft_s"]["p99"], trial["tpot_s"]["p99"]),
                  "loadgen_length": (run["ttft_s"]["p99"], run["tpot_s"]["p99"])},
    }
    if out["capped"]:
        out["overload_valid"], over = verdict(overload * offline)
        out["p99_s"]["overload"] = (over["ttft_s"]["p99"], over["tpot_s"]["p99"])
    return out


def offline_level(case: dict[str, Any], data: dict[str, Any]) -> float:
    """The level s (`step_level_check`) at which an Offline row's prediction is its published value: from the
    prediction over the published at s = 1 (r1; the rate is the engine's tokens per second of its own steps, so
    s = r1 if it goes as 1 / s) and at s = r1 (r2), the power law r = r1 s^-k through both, solved for r = 1. A
    cliff in LoadGen's whole passes (one pass instead of two) can leave it off (DeepSeek-R1: the notes)."""
    if case["scenario"] != "offline":
        raise InputError(f"{case['row']} is not an Offline row")
    published = float(case["published"])
    first = run_inference_case(case, data["engine"], data["workloads"])["predicted"] / published
    if abs(first - 1.0) < 1e-3:
        return 1.0
    second = run_inference_case(case, {**data["engine"], "step_scale": first}, data["workloads"])["predicted"]
    k = float(np.log(second / published / first) / np.log(1.0 / first))
    return float(first ** (1.0 / k)) if k > 0.0 else first


def step_level_check(rows: list[str], scale: float, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rows of one model and system (an Offline row first, then its Server / Interactive rows) with every
    iteration priced x `scale` (module docstring, "Step level"): each row's prediction and error, and each latency
    row's tokens/s over the Offline row's, modelled and measured (`over_offline`)."""
    cases = {c["row"]: c for c in data["cases"]}
    missing = [r for r in rows if r not in cases]
    if missing or not rows or cases[rows[0]]["scenario"] != "offline":
        raise InputError(f"a step-level check takes an Offline row then its latency rows: {rows}")
    if len({(cases[r]["model"], cases[r]["system"]) for r in rows}) != 1:
        raise InputError(f"a step-level check takes the rows of one model and system: {rows}")
    engine = {**data["engine"], "step_scale": scale}
    memo: dict[str, dict[str, Any]] = {}
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        r = run_inference_case(cases[row], engine, data["workloads"], memo)
        out[row] = {"predicted": r["predicted"], "published": float(cases[row]["published"]), "error": r["error"]}
    offline = out[rows[0]]
    for row in rows[1:]:
        out[row]["over_offline"] = (out[row]["predicted"] / offline["predicted"],
                                    out[row]["published"] / offline["published"])
    return out
