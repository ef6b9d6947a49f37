"""MLPerf Inference v5.1 on 8-GPU systems as a validation set (issue 13 item 8: the frontier inference rows).

The 24 `llm-inference` rows of MLPerf Inference v5.1 (mlcommons/inference_results_v5.1; rows H076-H134 of our
frontier_measured.csv: DeepSeek-R1 nvfp4 on B200 by TensorRT-LLM; Llama 3.1 405B nvfp4 on B200 and fp8 on H200; Llama 2
70B nvfp4 on B200 and fp8 on MI300X by vLLM; Mixtral 8x7B fp8 on H200 and MI300X; Llama 3.1 8B nvfp4 on B200 and fp8 on
H200; Offline, Server and Interactive) are the cases of `cases/inference_frontier.yaml`, each with its row id, source,
stack and what it assumes. They run through the runner of the v4.1 set (`validation.inference.run_inference_case`):
offline = every sample at t=0, the dataset repeated in whole passes as LoadGen sizes its Offline query (>= 1.1 x 600 s
at the run's own rate, Round 11); server and interactive = the highest Poisson rate whose p99 TTFT and TPOT meet the
row's limits and whose samples over each limit stay within LoadGen's early-stopping bound (bisection, Round 11), each
trial the samples LoadGen's Server query issues (whole shuffled passes of the dataset spanning 600 s,
`validation.inference.equal_issue_requests`, session 60), scored as LoadGen scores it (completed tokens/s,
`validation.loadgen`, Round 10). The case file states the rules: one deployment rule per model family (`dense_rule_tp`
for dense models and MoE models that fit a GPU; wide EP with attention DP for DeepSeek-R1), one profile per serving
stack (trtllm-0.x, vllm-0.x), the MLPerf datasets' length distributions as ASSUMPTIONS with a confidence grade, and no
front-end time per request (LoadGen drives the engine in-process with pre-tokenised samples). Every row is expressible
(`AWAITING` lists none).

The naive baseline (issue 12: the model must beat the best constant fitted to the set itself): a roofline with one
fitted efficiency, as the other serving sets use. At efficiency 1 a request costs the larger of its FLOPs
(2 x active parameters x (input + output) tokens) over the GPUs' peak at the case's precision and its bytes (the
KV cache each output token reads, context = input + output / 2, plus the replica's weights once per decode step of
a full batch) over their HBM bandwidth; tokens/s = mean output / that time. The fitted efficiency is
`sets.fit_constant`'s; the baseline cannot see the scenario's latency limits, which is the point of the comparison.
Residuals (predicted / published - 1) feed the error bands (`validation.bands`) as serving cases of their
accelerator family and stack class.

Where the set stands and why: `KNOWN_GAP` below (the 15 % gate is not met). Its history (the Rounds named here,
Rounds 6-8 -- the Offline run length, measured kernels against the model, LoadGen's rules, Mixtral's outputs, the FP8
context FMHA -- each later round's traces and every toggle's per-row numbers) is in
validation/notes/inference_frontier_tried.md.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import numpy as np

from infraplan.catalog.error_bands import Residual, accelerator_family, stack_class
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.cluster import Cluster
from infraplan.serving.kv_cache import kv_bytes_per_token, weight_bytes_per_gpu
from infraplan.validation.inference import (
    case_deployment,
    case_requests,
    case_shape,
    load_inference_cases,
    run_inference_case,
)
from infraplan.validation.results import ValidationSet

CASE_FILE = "inference_frontier.yaml"
SET_NAME = "MLPerf Inference v5.1 8-GPU (offline / server / interactive tokens/s)"
GATE_MEAN_ERROR = 0.15  # issue 13 item 8: mean |error| <= 15 % for serving across the frontier rows
DENSE_RULE_MEMORY_SHARE = 0.5  # the dense rule: weights take at most this share of each GPU's memory
AWAITING: list[str] = []  # every llm-inference row of frontier_measured.csv is a case (H076-H134)
KNOWN_GAP = ("gate not met yet (mean |error| <= 15 %): Mixtral 8x7B over-predicted by 27-42 % (outputs at MLPerf's "
             "145 tokens per sample; its step within 5 % of NVIDIA's sum of the TensorRT-LLM 1.0 line's measured "
             "kernels; against Llama 3.1 8B on its H200 system (same expert shapes; rows within 3 %) it is 1.30x "
             "fast, which an S- prompt mean of ~560 tokens (396 assumed) would close), latency-bound scenarios "
             "over-predicted where the model decodes moderate batches faster than measured (DeepSeek-R1 B200 Server "
             "+69 % at LoadGen's two-pass Offline rate, its step ~1.6x fast against the v5.1 engine and within 20 % "
             "of TensorRT-LLM's 2026 decode at that batch, validation.frontier_silicon; Llama 3.1 8B B200 "
             "Interactive; every B200 step line 7-24 ms short of its fixed cost, validation.operating_point), Llama "
             "3.1 405B under-predicted (B200 -4 to -18 %, as Llama 2 70B on the same system: their Offline ratio "
             "within 0.4 % of the rows'; H200 Server / Interactive -48 / -70 % under LoadGen's early stopping: its "
             "prefill ~135 us per prompt token where the rows allow ~100-124, its kernels within ~5 % of "
             "TensorRT-LLM's measured, its TP all-reduce as the dense sets' TP1-TP8 prompts read it; the assumed "
             "prompt tail) (validation/notes/inference_frontier_tried.md)")


def dense_rule_tp(shape: TransformerShape, accelerator: Accelerator, dtype: str, gpus: int = 8) -> int:
    """The case file's dense deployment rule: the smallest power-of-two TP (<= gpus) whose weights per GPU take
    at most `DENSE_RULE_MEMORY_SHARE` of its memory (the rest for the KV cache)."""
    tp = 1
    while tp < gpus and weight_bytes_per_gpu(shape, tp, 1, dtype) > DENSE_RULE_MEMORY_SHARE * accelerator.memory_bytes:
        tp *= 2
    return tp


def _family(system: str) -> str:
    return accelerator_family(Cluster.resolve(system).accelerator.name)


def load_frontier_cases() -> dict[str, Any]:
    """The case file with the workloads of both inference files (Llama 2 70B runs inference.yaml's OpenOrca)."""
    data = load_inference_cases(CASE_FILE)
    data["workloads"] = {**load_inference_cases()["workloads"], **data["workloads"]}
    return data


def roofline_tokens_per_s(case: dict[str, Any], data: dict[str, Any]) -> float:
    """The naive roofline's output tokens/s at efficiency 1 (module docstring)."""
    shape = case_shape(case)
    accelerator = Cluster.resolve(case["system"]).accelerator
    dep = case_deployment(case, data["engine"])
    requests = case_requests(case, data["workloads"], None)
    inp, out = float(np.mean(requests.input_tokens)), float(np.mean(requests.output_tokens))
    gpus = dep.gpus
    flops = 2.0 * shape.active_params(input_embedding=False) * (inp + out)
    rate_dtype = dep.dtype if accelerator.supports(dep.dtype) else "bf16"
    kv_bytes = out * (inp + out / 2.0) * kv_bytes_per_token(shape, 1, 1, dep.kv_dtype)
    per_gpu = weight_bytes_per_gpu(shape, dep.tp, dep.pp, dep.dtype, dep.expert_shards)
    weights_per_replica = per_gpu * dep.gpus_per_replica
    weight_bytes = out * weights_per_replica / (dep.max_batch * dep.engines_per_replica)
    seconds = max(flops / (gpus * accelerator.peak(rate_dtype)),
                  (kv_bytes + weight_bytes) / (gpus * accelerator.memory_bandwidth_bytes_per_s))
    return out / seconds


def run_frontier_inference_validation() -> dict[str, Any]:
    """The `validate` section: every frontier inference row, predicted vs published (`frontier_report`'s copy)."""
    out = frontier_report()
    return copy.deepcopy({"cases": out["cases"], "summary": out["summary"]})


@cache
def frontier_report() -> dict[str, Any]:
    """The frontier inference report, once per process: the cached dict itself, shared (callers copy it first)."""
    from infraplan.validation.sets import fit_constant

    data = load_frontier_cases()
    rows, units = [], []
    memo: dict[str, dict[str, Any]] = {}  # each offline run once for its Offline row and its Server searches
    for case in data["cases"]:
        row = run_inference_case(case, data["engine"], data["workloads"], memo)
        row["detail"] = {**row["detail"], "row": case["row"], "stack": case["stack"], "system": case["system"]}
        rows.append(row)
        units.append(roofline_tokens_per_s(case, data))
    published = np.array([r["published"] for r in rows])
    errors = np.abs(np.array([r["error"] for r in rows]))
    efficiency, base_errors = fit_constant(np.array(units), published)
    for row, unit in zip(rows, units, strict=True):
        row["detail"]["roofline_tokens_per_s"] = unit
    mean, base_mean = float(errors.mean()), float(np.abs(base_errors).mean())
    summary: dict[str, Any] = {
        "gated_cases": len(rows), "mean_abs_error": mean, "max_abs_error": float(errors.max()),
        "baseline_mean_abs_error": base_mean, "baseline_max_abs_error": float(np.abs(base_errors).max()),
        "baseline_efficiency": efficiency, "beats_baseline": mean < base_mean, "awaiting_rows": len(AWAITING),
        "gate": {"mean": GATE_MEAN_ERROR}, "engine": data["engine"],
    }
    summary["passes_gate"] = bool(mean <= GATE_MEAN_ERROR and summary["beats_baseline"])
    # an open gate is reported, tracked by a strict xfail test (tests/validation/test_inference_frontier.py) and
    # kept out of `validate`'s exit code until met, as the serving hopper section
    summary["enforced"] = summary["passes_gate"]
    if not summary["passes_gate"]:
        summary["known_gap"] = KNOWN_GAP
    return {"cases": rows, "summary": summary, "units": units}


def frontier_inference_set() -> tuple[ValidationSet, list[Residual]]:
    """The set for `infraplan validate` (`runner.validation_sets`): every row against the fitted roofline, with
    its residual for the error bands."""
    from infraplan.validation.sets import score_set

    out = frontier_report()
    rows = out["cases"]
    scored = score_set(SET_NAME, "serving", [r["id"] for r in rows], np.array([r["published"] for r in rows]),
                       np.array([r["predicted"] for r in rows]), np.array(out["units"]), "fitted-efficiency roofline",
                       GATE_MEAN_ERROR, AWAITING)
    residuals = [Residual(id=r["id"], family=_family(r["detail"]["system"]), stack=stack_class(r["detail"]["stack"]),
                          kind="serving", residual=r["error"]) for r in rows]
    return scored, residuals
