"""LLM inference validation: published serving throughput (MLPerf, TensorRT-LLM) and measured phase times.

`run_inference_validation()` runs every case of `cases/inference.yaml` through the serving simulator with one
engine configuration and the catalog's accelerator parameters (no per-case factors) and reports
predicted vs published. The gate (issue 5): mean absolute error over the gated cases <= 15 %.

`phase_times_check()` compares the iteration model with the 1,260 Splitwise measurements (Patel et al.,
ISCA 2024) of Llama2-70B / BLOOM-176B prefill and decode on DGX A100/H100 (fp16): rank correlation and
the median ratio. Those runs used a 2023 software stack without CUDA graphs, so their absolute times sit
well above today's engines; they check shape (scaling with batch, prompt and TP), not the gate.
"""

from __future__ import annotations

import copy
import csv
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml
from scipy.stats import spearmanr

from infraplan.catalog import load_model, read_entry, shape_from_hf_config
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.serving_loader import WorkloadSpec
from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time, prefill_time
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import Requests, fixed_requests, workload_requests

GATE_MEAN_ERROR = 0.15
SERVER_BISECTION_STEPS = 10
SERVER_MIN_DURATION_S = 600.0  # MLPerf Inference Server runs last at least 600 s
SPLITWISE_SYSTEMS = {"a100-80gb": "dgx-a100-superpod", "h100-80gb": "dgx-h100-superpod"}


def load_inference_cases() -> dict[str, Any]:
    text = (resources.files("infraplan.validation") / "cases" / "inference.yaml").read_text()
    return yaml.safe_load(text)


def _shape(case: dict[str, Any]) -> TransformerShape:
    if not case.get("model_overrides"):
        return load_model(case["model"])
    data, name = read_entry("models", case["model"])
    return shape_from_hf_config({**data, **case["model_overrides"]}, name)


def _requests(case: dict[str, Any], workloads: dict[str, Any], rate: float | None, seed: int = 0) -> Requests:
    if "workload" in case:
        spec = WorkloadSpec(display_name=case["workload"], source="validation case", kind="llm",
                            **workloads[case["workload"]])
        return workload_requests(spec, case["requests"], rate, seed)
    return fixed_requests(case["requests"], case["input_len"], case["output_len"], rate, seed)


def _simulate(case: dict[str, Any], engine: dict[str, Any], workloads: dict[str, Any], rate: float | None):
    if rate is not None:  # long enough that an overloaded queue shows in the p99, as in a 600 s MLPerf run
        case = {**case, "requests": max(case["requests"], int(rate * SERVER_MIN_DURATION_S))}
    shape = _shape(case)
    cluster = Cluster.resolve(case["system"])
    d = case["deployment"]
    dep = Deployment(tp=d["tp"], pp=d["pp"], replicas=case["gpus"] // (d["tp"] * d["pp"]), dtype=d["dtype"],
                     kv_dtype=d["kv_dtype"], max_batch=engine["max_batch"], token_budget=engine["token_budget"])
    slo = case.get("slo", {})
    return simulate_deployment(shape, cluster, dep, _requests(case, workloads, rate),
                               ttft_slo_s=slo.get("ttft_s"), tpot_slo_s=slo.get("tpot_s")), dep


def _server_rate(case: dict[str, Any], engine: dict[str, Any], workloads: dict[str, Any]) -> tuple[float, dict]:
    """Highest Poisson rate (requests/s) whose p99 TTFT and TPOT meet the case's SLOs (bisection)."""
    offline, _ = _simulate(case, engine, workloads, None)
    low, high = 0.0, offline["requests_per_s"]
    best = offline
    for _ in range(SERVER_BISECTION_STEPS):
        mid = (low + high) / 2.0
        r, _ = _simulate(case, engine, workloads, mid)
        if r["ttft_s"]["p99"] <= case["slo"]["ttft_s"] and r["tpot_s"]["p99"] <= case["slo"]["tpot_s"]:
            low, best = mid, r
        else:
            high = mid
    return low, best


def run_inference_case(case: dict[str, Any], engine: dict[str, Any], workloads: dict[str, Any]) -> dict[str, Any]:
    if case["scenario"] == "server":
        rate, result = _server_rate(case, engine, workloads)
        predicted = rate * result["mean_output_tokens"]
        detail = {"rate_per_s": rate, "ttft_p99_s": result["ttft_s"]["p99"], "tpot_p99_s": result["tpot_s"]["p99"]}
    else:
        result, _ = _simulate(case, engine, workloads, None)
        predicted = result[case["metric"]]
        detail = {"tpot_p50_s": result["tpot_s"]["p50"]}
    return {
        "id": case["id"], "metric": case["metric"], "scenario": case["scenario"], "published": case["published"],
        "predicted": float(predicted), "error": float(predicted) / case["published"] - 1.0,
        "deployment": result["deployment"], "detail": detail, "gated": "known_gap" not in case,
        "known_gap": case.get("known_gap"), "assumed": case.get("assumed"), "source": case["source"],
    }


def phase_times_check() -> dict[str, Any]:
    """Iteration model vs the Splitwise measured prefill and decode times (A100/H100, fp16)."""
    text = (resources.files("infraplan.validation") / "data" / "splitwise_measured.csv").read_text()
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
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
    return copy.deepcopy(_inference_report(include_phase_times))


@cache
def _inference_report(include_phase_times: bool) -> dict[str, Any]:
    data = load_inference_cases()
    rows = [run_inference_case(c, data["engine"], data.get("workloads", {})) for c in data["cases"]]
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
