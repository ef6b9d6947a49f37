"""The MLPerf v5.1 set's engines at measured operating points: a diagnostic of the iteration model's step where
TensorRT-LLM was measured end to end on the same hardware and layouts (not scored, not in `validate`).

Source: NVIDIA AIConfigurator's silicon sample (aiconfigurator-core 0.12.0 wheel, PyPI, Apache-2.0 data,
aiconfigurator_core/systems/silicon_sample.csv): closed-loop benchmark runs, mean TTFT and TPOT per row. Kept here
(`data/frontier_silicon_trtllm.csv`, 73 rows) are the TensorRT-LLM runs of the set's engines and layouts. Aggregated
(65): DeepSeek-R1 nvfp4 on B200 at attention DP 8 x EP 8 (release 1.2.0rc6.post2, the rows whose concurrency is
batch_size x attention DP as stated: 16 / 32 sequences per rank, ISL / OSL 1,024 / 1,024, 1,024 / 8,192, 8,192 /
1,024), i.e. the layout of H076 / H077; Llama 3.1 70B on B200 at TP1 in fp4 and fp8 (the TP1 layout of the Llama 2
70B B200 rows H104-H106) and on H200 at TP8 in fp8 (the TP8 layout of the Llama 3.1 405B H200 rows H090-H092), 4-128
clients, with the same campaign's H200 TP1 / TP2 / TP4 runs of 8,192-token prompts at 4 and 8 clients (a lone long
prefill at each TP; at <= 8 clients, as the Hopper sets' front-end rule). Disaggregated (8): DeepSeek-V3 / R1 (one
architecture) decode workers on B200 at attention DP 8 x EP 8, nvfp4 and fp8 (Dynamo 0.8.1 TensorRT-LLM runtime
images), 8-512 sequences per rank, the stated concurrency = batch x 8 x workers. Each aggregated row runs through the
dense / MoE sets' closed-loop runner (`validation.serving_hopper.run_row`, its campaign rules and front end) with the
frontier set's precision mapping: "fp4" = nvfp4 weights and activations with an fp8 KV cache (ASSUMPTION for the
Llama rows: the source states the GEMM quantisation only). A decode worker's TPOT is set against the model's pure
decode step at its per-rank batch and mean context, ISL + OSL / 2 (`decode_step_s`; ASSUMPTION: the closed loop
keeps every rank full and the worker runs no prefill; no speculative decoding is stated, and a row that ran MTP
would show a TPOT below the step).

Model / measured (2 Dec 2026, `silicon_check`; medians per group):
* DeepSeek-R1 B200 ADP8 x EP8 nvfp4: TPOT 0.86-1.05 (1,024 / 1,024 0.87 / 0.86 at 128 / 256 clients; 1,024 / 8,192
  0.96 / 0.97; 8,192 / 1,024 1.05): where TensorRT-LLM 1.2 was measured (<= 32 sequences per rank, <= 280 k cached
  tokens per rank) the model's wide-EP step is right. Its TTFT was 0.2-0.4 of the measured (the attention-DP
  scheduling wait, then not modelled; 0.50-0.96 with the campaigns' balancing since session 52, the 8,192-token row's
  TPOT 1.15 -> 1.30). The MLPerf Server row H077 runs
  155-215 sequences per rank over ~4,450 cached tokens each (0.7-1.0 M per rank), beyond these points, where the
  model's step is ~0.52-0.63 of the measured TPOT; the decode workers below reach that batch.
* DeepSeek decode workers, ADP8 x EP8 on B200, step / measured TPOT: nvfp4 1.12 / 1.15 at 137 / 512 sequences per
  rank (1,024 / 1,024: 0.2 / 0.8 M cached tokens per rank); fp8 0.84 / 0.81 at 48 / 512 (1,024 / 1,024), 0.88 / 0.84
  / 0.87 / 0.96 at 8 / 16 / 32 / 80 (8,192 / 1,024; 80 x 8,704 = 0.7 M tokens per rank). At H077's batch and cached
  tokens (155-215 sequences, 0.7-1.0 M tokens per rank) TensorRT-LLM of 2026 runs within -19 / +15 % of the model's
  step, where the v5.1 engine's TPOT (TensorRT 10.11 builds of mid-2025) is 1.5-1.9x it: the R1 Server gap is
  that engine's speed, not a term missing from the step at large batch (notes, Round 12).
* AIConfigurator's measured TensorRT-LLM 1.3.0rc20 EP8 nvfp4 MoE kernel (moe_perf.parquet, CUTLASS, balanced:
  0.28-0.30 ms a layer at 256-2,048 tokens, where the model prices the routed experts at ~0.13 ms) put in place of
  the model's experts makes these R1 rows' TPOT 1.24-1.43x the measured: the kernel table and the end-to-end
  measurements of the same stack disagree, so the table is not used (validation/notes/inference_frontier_tried.md,
  Round 12).
* Llama 3.1 70B B200 TP1: TPOT median 1.10 (fp4) / 1.09 (fp8), TTFT 1.16 / 1.07; at 4 clients of 8,192-token
  prompts the measured fp8 / fp4 TTFT is 590 / 395 ms = 1.49 (the model 1.38): TensorRT-LLM's nvfp4 Llama runs its
  GEMMs at the fp4 rate (W4A4), as the set assumes for the 70B / 405B B200 rows. Every fp4 / fp8 pair
  (`precision_speedups`, 18): measured fp8 / fp4 TTFT 1.26-1.66 below 128 clients, the model 1.26-1.43; TPOT 1.15-1.29
  and 1.14-1.27. nvfp4 on the fp8 fractions' basis (b200.yaml fp4 0.46 -> 0.37) would price 1.16-1.23 / 1.13-1.20:
  refuted (hK, session 51).
* Llama 3.1 70B H200 TP8 fp8: TPOT 1.05, TTFT 1.14 (8,192-token prompts at 4 / 8 clients 1.19 / 1.14; the same
  source's TP1 rows 1.18 / 1.14): the model's long-prompt TTFT on H200 is ~15 % dear whatever the TP, so not its TP
  all-reduce alone (the Llama 3.1 405B H200 rows allow ~100-124 us per prompt token against its ~135).
* TP scaling of a long prefill (Llama 3.1 70B H200 fp8, 8,192-token prompts; round 13 of the notes): model / measured
  TTFT at TP1 / TP2 / TP4 / TP8 is 1.18 / 1.19 / 1.19 / 1.18 at 4 clients and 1.14 / 1.08 / 1.10 / 1.14 at 8: flat,
  so the model's TP all-reduce, priced in series with the GEMMs (two per layer, custom / NVLS; as AIConfigurator's
  TensorRT-LLM Llama model, sdk/models/llama.py:202-213), grows with TP as TensorRT-LLM's prefill does. Hidden
  entirely the ratio falls from 1.18 to 0.82 (4 clients) and 1.14 to 0.78 (8): TensorRT-LLM (release not stated,
  measured 2025-10-29) does not overlap it. That refutes the one candidate that would close the six Llama 3.1 405B
  rows together (all-reduce hidden: H082-H084 / H090-H092 -22 / -28 / -18 / -20 / -45 / -75 -> -3 / -5 / +11 / +5 /
  +5 / +4 %, set 23.8 -> 16.5 %, not adopted), unless the v5.1 TensorRT 10.11 engines fused it (no source here).
  The residual ~15 % is not the GEMMs either: AIConfigurator's TensorRT-LLM 1.3.0rc20 fp8 GEMM table
  (h200_sxm/gemm/trtllm/1.3.0rc20/gemm_perf.parquet) runs a 70B layer's four GEMMs at M = 8,192 in 10.58 ms (model
  11.41) and a 405B TP8 layer's in 5.10 ms (model 5.33): 5-8 %.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np

from infraplan.catalog import load_model
from infraplan.catalog.data_files import validation_rows
from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.validation import serving_blackwell, serving_hopper
from infraplan.validation.serving_hopper_moe import moe_deployment
from infraplan.validation.serving_row_rules import SYSTEMS

DATA_FILE = "frontier_silicon_trtllm.csv"
MOE_MODELS = {"deepseek-ai/DeepSeek-R1": "deepseek-r1", "deepseek-ai/DeepSeek-V3": "deepseek-v3"}  # catalog models


def load_silicon_rows() -> list[dict[str, str]]:
    """Every row of the data file, in file order (module docstring)."""
    return validation_rows(DATA_FILE)


def moe_shape(row: dict[str, str]) -> TransformerShape:
    """A DeepSeek row's catalog model; an "fp4" one as its NVFP4 export stores it (the Blackwell set's published scope,
    `serving_blackwell.shape`: the same InferenceX checkpoint)."""
    return serving_blackwell.shape(row) if row["precision"] == "fp4" else load_model(MOE_MODELS[row["model_path"]])


def silicon_deployment(row: dict[str, str]) -> Deployment:
    """The row's deployment as the sets' runner builds it, at the frontier set's precisions: "fp4" is nvfp4 with an
    fp8 KV cache; attention-DP rows are wide EP (`serving_hopper_moe.moe_deployment`)."""
    dep = moe_deployment(row) if row["model_path"] in MOE_MODELS else serving_hopper.row_deployment(row)
    return replace(dep, dtype="nvfp4", kv_dtype="fp8") if row["precision"] == "fp4" else dep


def decode_step_s(row: dict[str, str]) -> float:
    """The model's pure decode step (seconds) of a disaggregated row's decode worker: its per-rank batch at the mean
    context ISL + OSL / 2, attention DP x EP as stated, TP1 ranks (module docstring)."""
    adp, batch = int(row["decode_attention_dp_size"]), int(row["decode_batch_size"])
    dtype = "nvfp4" if row["precision"] == "fp4" else row["precision"]
    dep = Deployment(tp=1, pp=1, ep=int(row["decode_moe_ep_size"]), attention_dp=adp, dtype=dtype, kv_dtype="fp8",
                     max_batch=max(batch, 1), token_budget=max(batch, 8192), engine="trtllm", stack="trtllm-0.x")
    cluster = Cluster.resolve(SYSTEMS[row["system"]])
    cost = build_iteration_cost(moe_shape(row), cluster.accelerator, cluster.fabric, dep)
    context = int(row["isl"]) + int(row["osl"]) / 2.0
    return float(cost.time(0, batch, batch * context, 0))


def run_silicon_row(row: dict[str, str]) -> dict[str, float]:
    """Predicted mean TTFT and TPOT (seconds) of one row in closed loop at its stated clients."""
    clients = {**row, "batch_size": row["concurrency"]}  # `serving_hopper.run_row` runs batch_size clients
    shape = moe_shape(row) if row["model_path"] in MOE_MODELS else None
    return serving_hopper.run_row(clients, silicon_deployment(row), shape)


def group_of(row: dict[str, str]) -> str:
    """Model, system, precision and layout of a row."""
    if row["mode"] == "disagg":
        layout = f"decode ADP{row['decode_attention_dp_size']} EP{row['decode_moe_ep_size']}"
    elif row["model_path"] in MOE_MODELS:
        layout = f"ADP{row['attention_dp_size']} EP{row['moe_ep_size']}"
    else:
        layout = f"TP{row['tp_size']}"
    return f"{row['model_path'].split('/')[1]} {row['system'].split('_')[0]} {row['precision']} {layout}"


def silicon_check() -> dict[str, Any]:
    """Every row, model / measured TTFT and TPOT, and each group's medians (computed once per process; each call
    gets its own copy)."""
    out = _silicon_check()
    return {"rows": [dict(r) for r in out["rows"]], "groups": {k: dict(v) for k, v in out["groups"].items()}}


@cache
def _silicon_check() -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for row in load_silicon_rows():
        if row["mode"] == "disagg":  # a decode worker: its step against the measured TPOT
            rows.append({"id": row["id"], "group": group_of(row), "isl": int(row["isl"]), "osl": int(row["osl"]),
                         "clients": int(row["concurrency"]), "batch_per_rank": int(row["decode_batch_size"]),
                         "step_ratio": decode_step_s(row) * 1e3 / float(row["silicon_tpot_ms"])})
            continue
        predicted = run_silicon_row(row)
        rows.append({"id": row["id"], "group": group_of(row), "isl": int(row["isl"]), "osl": int(row["osl"]),
                     "clients": int(row["concurrency"]),
                     "ttft_ratio": predicted["ttft_s"] * 1e3 / float(row["silicon_ttft_ms"]),
                     "tpot_ratio": predicted["tpot_s"] * 1e3 / float(row["silicon_tpot_ms"])})
    groups: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(str(r["group"]) for r in rows):
        members = [r for r in rows if r["group"] == name]
        keys = ("step_ratio",) if "step_ratio" in members[0] else ("ttft_ratio", "tpot_ratio")
        medians = {f"{k}_median": float(np.median([r[k] for r in members])) for k in keys}
        groups[name] = {"rows": len(members), **medians}
    return {"rows": rows, "groups": groups}


def precision_speedups() -> list[dict[str, Any]]:
    """The fp8 / fp4 speedup of each pair of aggregated rows alike but for precision (same model, system, layout,
    lengths and clients: the Llama 3.1 70B B200 TP1 runs), measured and the model's: fp8 TTFT / fp4 TTFT and the
    same for TPOT, each from `silicon_check`'s model / measured ratios and the rows' measured times. What it checks
    is the B200 nvfp4 GEMM rate against the fp8 one (`matmul_max_fraction` fp4 / fp8 in b200.yaml), which an
    8,192-token prompt's TTFT carries: it refutes pricing nvfp4 on the fp8 fractions' basis (AIConfigurator's nvfp4
    fraction x the catalog / AIC fp8 ratio, 0.46 -> 0.37; validation/notes/inference_frontier_tried.md, hK)."""
    measured = {r["id"]: r for r in load_silicon_rows()}
    model = {r["id"]: r for r in silicon_check()["rows"] if "ttft_ratio" in r}

    def alike(row: dict[str, str]) -> tuple[str, ...]:
        return tuple(row[k] for k in ("model_path", "system", "tp_size", "attention_dp_size", "moe_ep_size", "isl",
                                      "osl", "concurrency"))

    fp8 = {alike(r): r for r in measured.values() if r["mode"] == "agg" and r["precision"] == "fp8"}
    pairs = []
    for fast in (r for r in measured.values() if r["mode"] == "agg" and r["precision"] == "fp4"):
        slow = fp8.get(alike(fast))
        if slow is None:
            continue
        out: dict[str, Any] = {"group": group_of(fast), "isl": int(fast["isl"]), "osl": int(fast["osl"]),
                               "clients": int(fast["concurrency"])}
        for metric in ("ttft", "tpot"):
            seen = float(slow[f"silicon_{metric}_ms"]) / float(fast[f"silicon_{metric}_ms"])
            ratio = model[slow["id"]][f"{metric}_ratio"] / model[fast["id"]][f"{metric}_ratio"]
            out[f"measured_{metric}_speedup"] = seen
            out[f"model_{metric}_speedup"] = seen * ratio
        pairs.append(out)
    return pairs
