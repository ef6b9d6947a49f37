"""The dense Hopper serving set's report: each row predicted against its measured TTFT and TPOT, grouped, and the
fitted-roofline baseline the model must beat.

The gate (issue 12): mean |error| <= 12 % over TTFT and TPOT of every row. The naive baseline is a roofline with
one efficiency per metric fitted to the set itself (the best such constant; `validation.serving_row_rules`): TPOT =
(weights + KV bytes read per step per GPU) / (eff x HBM bandwidth), TTFT = prompt FLOPs per GPU / (eff x peak at the
row's dtype); the fitted efficiency minimises the baseline's mean |error| (a weighted median). MoE / MLA rows are
the MoE set's (`serving_hopper_moe`) and disaggregated rows the disaggregated set's (`serving_hopper_disagg`), each
listing its own rows not run; rows no set expresses are counted in `data/serving_hopper_awaiting.csv` (none today)
and listed in the summary. This set's own rows not run: the 7 whose source states no concurrency (`validation.
serving_row_rules`, which says why). Blackwell rows: `validation.serving_blackwell`, through `run_row`.
How a row is run (the campaign's engines, clients and front end, with their sources): `validation.serving_hopper`.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import numpy as np

from infraplan.catalog.data_files import validation_rows
from infraplan.validation import serving_hopper
from infraplan.validation.release_stacks import row_stack, stack_name
from infraplan.validation.serving_row_rules import fitted_scale, not_run, roofline_seconds

GATE_MEAN_ERROR = 0.12


def awaiting() -> list[dict[str, Any]]:
    """Rows of the published set not run yet, by model, system, backend, version and mode, with the reason."""
    return [{**r, "rows": int(r["rows"])} for r in validation_rows("serving_hopper_awaiting.csv")]


KNOWN_GAP = ("gate not met yet: TTFT 26 %, TPOT 10 %. Modelled: vLLM 0.12's measured decode attention, "
             "TensorRT-LLM 1.0.0rc3's measured all-reduce; the client's round trip (serving.client_loop: start-up "
             "waves persist; the Dynamo rows' TTFT still short by ~2 prefills on TensorRT-LLM 1.0.0rc3); whole "
             "prompts on the Dynamo TensorRT-LLM workers (chunked prefill off in their template); the "
             "front end by serving path (validation.serving_row_rules); the campaign's engine limits (AIConfigurator's "
             "generator rules: max_num_tokens = batch + ISL + 1500, SGLang --enable-mixed-chunk from the generator's "
             "0.6.0; SGLang 0.5.1.post1 at SGLang's defaults, prefill-first), the gap-analysis harness's fixed "
             "output lengths (ignore_eos), clients of the other sources desynchronised by early end-of-sequence "
             "stops (fitted), a front-end time per request per stack; SGLang 0.5.6's Dynamo worker loop as a "
             "measured per-sequence host floor (serving.host_overhead: its ~30 ms TPOT at 448-512 clients on every "
             "TP). Not modelled: SGLang 0.5.6 Llama 8B TTFT at 448-512 clients (-56..-93 %: the worker's backlog "
             "delays the first token too); vLLM 0.12 Llama 8B fp8 TPOT +81 % with its release's fp8 GEMMs at "
             "0.82 of peak (its measured cycle needs 0.95-1.25 GPU-s a second on 5 of 21 rows at 100 % of the fp8 "
             "peak and of HBM: not a kernel rate; cached by aiperf's 100 reused prompts? the MoE set's vLLM "
             "0.12 Qwen3-235B rows look uncached: validation.serving_prefix_reuse); TensorRT-LLM 1.0.0rc3 Llama 8B "
             "TTFT = ~0.1 s + request time / clients at <= 32 clients, 0.4-2 s at 64-128 clients on TP4-8, where "
             "output plateaus at ~9.2k tokens/s on TP2, TP4 and TP8 alike (host-bound; not its KV pool); "
             "TensorRT-LLM front-end time by campaign (Llama-70B TP8: 69 ms at 4 clients, under the stack's "
             "0.080 s) (module docstring; notes/serving_hopper_tried.md rounds 8, 14 and 19; issue 12)")


def roofline_work(row: dict[str, str]) -> dict[str, float]:
    """The naive roofline's seconds at efficiency 1: decode bytes / bandwidth, one prompt's FLOPs / peak."""
    dep = serving_hopper.row_deployment(row)
    return roofline_seconds(serving_hopper.model_shape(row["model_path"]), row["system"], dep, dep,
                            int(row["batch_size"]), int(row["isl"]), int(row["osl"]))


def _group(row: dict[str, str]) -> str:
    precision = row["precision"] or "bf16"
    return (f"{serving_hopper.MODELS[row['model_path']][0]} {row['system'].split('_')[0]} {row_stack(row)} {precision} "
            f"TP{row['tp_size']}")


def group_stack(rows: list[dict[str, str]]) -> str:
    """The stack profile a case's rows ran (`serving_hopper.row_deployment`, by `stack_name`); "mixed: A, B" where
    they differ (a campaign's rows share their release, but not always its harness: `release_stacks`)."""
    names = sorted({stack_name(serving_hopper.row_deployment(row).stack) for row in rows})
    return names[0] if len(names) == 1 else "mixed: " + ", ".join(names)


def run_serving_hopper_validation() -> dict[str, Any]:
    """Every expressible row, predicted vs measured TTFT/TPOT, grouped, with the fitted-roofline baseline: computed
    once per process (the packaged rows and catalog do not change while it runs), each call its own copy."""
    return copy.deepcopy(serving_hopper_report())


@cache
def row_predictions() -> tuple[dict[str, Any], ...]:
    """`run_row` of every row of `load_rows()`, once per process (the report and the error bands' residuals)."""
    return tuple(serving_hopper.run_row(row) for row in serving_hopper.load_rows())


@cache
def serving_hopper_report() -> dict[str, Any]:
    """The dense Hopper serving report, once per process: the cached dict itself, shared (callers copy it first)."""
    rows = serving_hopper.load_rows()
    out: dict[str, dict[str, list[float]]] = {m: {"p": [], "m": [], "b": []} for m in ("ttft_s", "tpot_s")}
    groups: dict[str, list[int]] = {}
    for i, (row, predicted) in enumerate(zip(rows, row_predictions(), strict=True)):
        work = roofline_work(row)
        for metric, column in (("ttft_s", "silicon_ttft_ms"), ("tpot_s", "silicon_tpot_ms")):
            out[metric]["p"].append(predicted[metric])
            out[metric]["m"].append(float(row[column]) / 1e3)
            out[metric]["b"].append(work[metric])
        groups.setdefault(_group(row), []).append(i)
    errors: dict[str, np.ndarray] = {}
    baseline: dict[str, np.ndarray] = {}
    efficiency: dict[str, float] = {}
    for metric, v in out.items():
        p, m, w = np.array(v["p"]), np.array(v["m"]), np.array(v["b"])
        errors[metric] = p / m - 1.0
        scale = fitted_scale(w, m)
        efficiency[metric] = 1.0 / scale
        baseline[metric] = scale * w / m - 1.0
    cases = []
    for name, idx in groups.items():
        stack = group_stack([rows[i] for i in idx])
        for metric in ("ttft_s", "tpot_s"):
            sel = np.array(idx)
            measured = np.array(out[metric]["m"])[sel]
            predicted = np.array(out[metric]["p"])[sel]
            cases.append({
                "id": f"{name} ({len(idx)} runs)", "metric": f"mean {metric.split('_')[0].upper()}, ms",
                "published": float(measured.mean() * 1e3), "predicted": float(predicted.mean() * 1e3),
                # the error of the row's own two means, as every other row (the runs' mean signed error: mean_error)
                "error": float(predicted.mean() / measured.mean() - 1.0), "gated": True,
                "detail": {"mean_error": float(np.mean(errors[metric][sel])),
                           "mean_abs_error": float(np.mean(np.abs(errors[metric][sel]))),
                           "baseline_mean_abs_error": float(np.mean(np.abs(baseline[metric][sel])))},
                "source": "NVIDIA AIConfigurator silicon sample (Apache-2.0), closed-loop benchmark clients",
                "stack": stack,
            })
    pooled = np.abs(np.concatenate([errors["ttft_s"], errors["tpot_s"]]))
    pooled_base = np.abs(np.concatenate([baseline["ttft_s"], baseline["tpot_s"]]))
    waiting = awaiting()
    summary = {
        "rows": len(rows), "gated_cases": 2 * len(rows),
        "mean_abs_error": float(pooled.mean()), "max_abs_error": float(pooled.max()),
        "mean_abs_error_ttft": float(np.mean(np.abs(errors["ttft_s"]))),
        "mean_abs_error_tpot": float(np.mean(np.abs(errors["tpot_s"]))),
        "baseline_mean_abs_error": float(pooled_base.mean()), "baseline_max_abs_error": float(pooled_base.max()),
        "baseline_efficiency_ttft": efficiency["ttft_s"], "baseline_efficiency_tpot": efficiency["tpot_s"],
        "beats_baseline": bool(pooled.mean() < pooled_base.mean()),
        "awaiting_rows": sum(r["rows"] for r in waiting), "awaiting": waiting,
        "not_run_rows": len(not_run()), "not_run": not_run(),
        "gate": {"mean": GATE_MEAN_ERROR},
    }
    summary["passes_gate"] = bool(summary["mean_abs_error"] <= GATE_MEAN_ERROR and summary["beats_baseline"])
    # Not yet met (TTFT holds front-end time and client desynchronisation the model lacks): reported, tracked by a
    # strict xfail test (tests/serving/test_serving_hopper.py), and kept out of `validate`'s exit code until met,
    # like the vTrain and frontier sets and the per-case known gaps.
    summary["enforced"] = False
    summary["known_gap"] = KNOWN_GAP
    return {"cases": cases, "summary": summary}
