"""Serving validation on measured Hopper MoE / MLA runs: closed-loop TTFT and TPOT (issue 13 item 8).

The set (`data/serving_measured_hopper_moe.csv`, 815 rows) is the MoE / MLA part of NVIDIA AIConfigurator's
silicon sample (Apache-2.0 data): aggregated (colocated) serving of DeepSeek-R1/V3, Qwen3-235B-A22B-FP8, GPT-OSS
120B, Kimi-K2.5, MiniMax-M2.5, Qwen3.5-397B-A17B and GLM-5 on H100 SXM / H200 SXM by TensorRT-LLM, vLLM and SGLang,
each row a closed-loop benchmark of `concurrency` clients (the source's `silicon_concurrency`; `batch_size` is
one attention-DP rank's share) at a fixed ISL/OSL with its measured mean TTFT and TPOT.
Every expressible row runs as the dense set does (`serving_hopper`: the row's backend and version as its stack,
`REQUESTS_PER_CLIENT` requests per client, `simulate_deployment` in closed loop), with the row's MoE layout:

* `attention_dp_size` > 1 (wide EP, `serving.llm_iteration`): `attention_dp` ranks of `tp_size` GPUs each run
  attention on their own clients; the MoE layers run EP x MoE TP over them (`campaign_settings.moe_layout`).
* otherwise EP inside the TP group: `moe_ep_size` expert shards x `moe_tp_size` tensor shards = `tp_size` GPUs.

Precision (the rows' `precision` / `moe_quant_mode`): fp8 and fp8_block -> W8A8 fp8 with an fp8 KV cache (as the
dense set); int4_wo (Kimi-K2.5's released INT4 QAT checkpoint) -> W4A16 with a bf16 KV cache; GPT-OSS's `fp4`
on Hopper -> weight-only mxfp4 (`serving.deployment.mxfp4_weight_only`: no fp4 tensor cores, so vLLM runs the
released MXFP4 experts through W4A16 kernels, vllm 0.18.0 quantization/mxfp4.py:109-173), 0.53125 B per weight with
the e8m0 scales, GEMMs at the int4 weight-only rate, on the routed experts only: both releases keep attention, router,
shared experts and dense layers in bf16 (their quantization_config, `ops.precision.weight_scope`), Kimi's INT4 with a
bf16 scale per 32 weights, 0.5625 B (`stored_weight_bytes`).

Models: catalog presets from their HF config.json (`catalog/models`). Kimi-K2.5 is `kimi-k2.5`, its config.json's
text_config with its INT4 quantization_config (K2's architecture; a text benchmark runs no vision encoder; hF66: it was
`kimi-k2` carrying K2.5's quantization_config, now Kimi-K2-Instruct's own file). MiniMax-M2.5, Qwen3.5-397B-A17B and
GLM-5 have no config at hand and no preset: their rows stay awaiting. So do layouts the catalog systems cannot hold as
stated (attention TP 16 / 64 over 2-8 HGX nodes: `MAX_GPUS` = one 8-GPU node; `layout_why_not`). Rows whose numbers
contradict other rows of the set stay awaiting too (`inconsistent_rows`, `validation.serving_row_consistency`: by
Little's law, 5 GPT-OSS vLLM rows at 512 clients decoding faster than 8-16 clients; by TPOT against concurrency, 3 rows
(round 12); two runs of one configuration and clients > 1.5x apart, one TensorRT-LLM pair (round 15)).

The naive baseline is the dense set's (`serving_row_rules.fitted_scale`): a roofline with one efficiency per metric
fitted to the set itself, here with the weights each GPU holds (experts sharded over EP, all of them read per
step) and the MLA latent as the KV bytes; the gate is issue 13's: mean |error| <= 15 % over TTFT and TPOT.
Many clients per row are simulated (10 x concurrency requests); `infraplan validate` scores every row since
2026-12-02 (`SAMPLE_EVERY` = 1; n > 1 runs every n-th row of each model/system/backend group, in file order).

What each rule did to the set (Rounds 4-20 as they stood here until session 58, the hW41 weight scope's 15.1366 ->
15.1374 %, every rule tried and rejected): validation/notes/serving_hopper_moe_tried.md; where it stands against
`GATE_MEAN_ERROR`: `infraplan validate`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from functools import cache
from typing import Any

from infraplan.catalog import read_entry, shape_from_hf_config
from infraplan.catalog.data_files import validation_rows
from infraplan.catalog.error_bands import Residual
from infraplan.catalog.model_config import TransformerShape
from infraplan.serving.llm_iteration import Deployment
from infraplan.validation import campaign_settings, serving_hopper
from infraplan.validation import serving_row_consistency as consistency
from infraplan.validation.release_stacks import data_stack
from infraplan.validation.results import ValidationSet
from infraplan.validation.serving_hopper import row_deployment
from infraplan.validation.serving_report import (
    awaiting_counts,
    report_rows,
    sample_by_group,
    score_report,
)
from infraplan.validation.serving_row_consistency import LITTLE_LAW, contradicting_rows, repeated_measurements
from infraplan.validation.serving_row_rules import roofline_seconds

GATE_MEAN_ERROR = 0.15  # issue 13: mean |error| <= 15 % on the serving rows
MAX_GPUS = 8  # one HGX node: the catalog's H100 / H200 systems hold TP and EP inside the node's NVLink
SAMPLE_EVERY = 1  # `validate` scores every row (~8 s); 2 = every 2nd row of each group (~4 s), until 2026-12-02
SET_NAME = "serving hopper MoE/MLA (closed loop)"
# TensorRT-LLM attention-DP rows on trtllm-0.x balance context requests (`serving.adp_balance`; counts recalled, the
# evidence in data/stacks/trtllm-0.x-adp-balance.yaml). Session 52 (hB): MoE 14.919 -> 14.762 %, Blackwell 20.572 ->
# 20.109 %, other sets unchanged (validation/notes/serving_blackwell_tried.md, round 15). False to compare.
ADP_BALANCE_CAMPAIGN = True
INCONSISTENT = LITTLE_LAW  # the Little's-law rule's reason (`validation.serving_row_consistency`, rule 1)
SOURCE = "NVIDIA AIConfigurator silicon sample (Apache-2.0), closed-loop benchmark clients"
# the set's checkpoints -> catalog preset (HF config.json); models without one stay awaiting
MODELS: dict[str, str] = {
    "deepseek-ai/DeepSeek-R1": "deepseek-r1",
    "deepseek-ai/DeepSeek-V3": "deepseek-v3",
    "Qwen/Qwen3-235B-A22B-FP8": "qwen3-235b-a22b",
    "openai/gpt-oss-120b": "gpt-oss-120b",
    "moonshotai/Kimi-K2.5": "kimi-k2.5",  # its config.json's text_config (docstring)
}
# the rows' weight precision -> (weight dtype, KV dtype) of the deployment (module docstring)
PRECISIONS: dict[str, tuple[str, str]] = {"fp8": ("fp8", "fp8"), "int4": ("int4", "bf16"), "fp4": ("mxfp4", "bf16")}


def load_rows() -> list[dict[str, str]]:
    """Every aggregated MoE / MLA row of the sample, in file order."""
    return validation_rows("serving_measured_hopper_moe.csv")


_int = campaign_settings.layout_count  # a layout column's count: empty or "0" (the source's "none" on dense rows) is 1


def concurrency(row: dict[str, str]) -> int | None:
    """The benchmark's clients as the source states them (`concurrency`: its `silicon_concurrency`), or None.

    Not `batch_size`: on attention-DP rows that is one rank's sequences (every attention-DP row of the sample
    states concurrency = batch_size x attention_dp_size, as the disaggregated rows' per-rank batch sizes)."""
    return int(row["concurrency"]) if row.get("concurrency") else None


def inconsistent_rows() -> dict[str, str]:
    """Rows whose own numbers contradict other rows of the set, by id, with the reason: Little's law, TPOT against
    concurrency, runs that disagree (`validation.serving_row_consistency`), one rule for all rows (per toggles)."""
    return _inconsistent_rows(*consistency.rule_switches())


@cache
def _inconsistent_rows(*switches: object) -> dict[str, str]:  # the rules' toggles and ratios: the key
    return contradicting_rows(load_rows(), concurrency)


def why_not(row: dict[str, str]) -> str | None:
    """Why the row is not scored, or None: it cannot be run as it was measured, or it repeats another row's
    measurement (`serving_row_consistency.repeated_measurements`)."""
    return _why_not_expressible(row) or _repeated_rows(consistency.COUNT_REPEATS_ONCE,
                                                       consistency.REPEAT_DECIMALS).get(row["id"])


@cache
def _repeated_rows(count_once: bool, decimals: int | None) -> dict[str, str]:  # the toggles key the cache
    return repeated_measurements(load_rows(), lambda r: _why_not_expressible(r) is None)


def _why_not_expressible(row: dict[str, str]) -> str | None:
    return inconsistent_rows().get(row["id"]) or layout_why_not(row)


def layout_why_not(row: dict[str, str], models: Collection[str] = MODELS, max_gpus: int = MAX_GPUS,
                   precisions: Collection[str] = PRECISIONS) -> str | None:
    """Why a row cannot run as measured (model, clients, layout, GPUs, precision), or None (`serving_blackwell` too)."""
    if row["model_path"] not in models:
        return "no HF config.json at hand for this model (no catalog preset)"
    if concurrency(row) is None:
        return "no concurrency stated (silicon_concurrency): the closed loop's clients are unknown"
    if concurrency(row) != _int(row["batch_size"]) * _int(row["attention_dp_size"]):
        return ("stated concurrency is not batch_size x attention DP (per-rank batches of a layout not stated in "
                "full, e.g. attention DP under TensorRT-LLM's tp_size)")
    gpus = _int(row["tp_size"]) * _int(row["attention_dp_size"]) * _int(row["pp_size"])
    moe_gpus = _int(row["moe_tp_size"]) * _int(row["moe_ep_size"])  # MoE checkpoints only: a dense one has no MoE
    if row["model_path"] in MODELS and _int(row["tp_size"]) * _int(row["attention_dp_size"]) != moe_gpus:
        return "attention TP x DP differs from MoE TP x EP (the layout is not stated in full)"
    if gpus > max_gpus:
        return f"{gpus} GPUs (attention TP {row['tp_size']}) span several HGX nodes: multi-node TP not modelled"
    if row["precision"] not in precisions:
        return f"precision {row['precision']!r} not mapped"
    return None


def moe_deployment(row: dict[str, str]) -> Deployment:
    """The dense set's deployment of the row (stack, batch limits) with its precision, MoE layout and draft."""
    dtype, kv_dtype = campaign_settings.engine_kv_dtype(row, *PRECISIONS[row["precision"]])  # SGLang "auto"
    adp, (ep, moe_tp) = _int(row["attention_dp_size"]), campaign_settings.moe_layout(row)  # EP / MoE TP
    k, r = campaign_settings.draft(row, model_shape)  # MTP where the campaign ran it
    dep = row_deployment(row)
    if ADP_BALANCE_CAMPAIGN and adp > 1 and dep.stack == "trtllm-0.x":  # the balancing (`ADP_BALANCE_CAMPAIGN`)
        dep = replace(dep, stack=data_stack("trtllm-0.x-adp-balance.yaml"))
    return replace(dep, dtype=dtype, kv_dtype=kv_dtype, ep=ep, attention_dp=adp, moe_tp=moe_tp, speculative_tokens=k,
                   acceptance=r)


@cache
def model_shape(model_path: str) -> TransformerShape:
    """The shape of a MoE campaign row's model (`MODELS`: its catalog preset), read once per model."""
    data, name = read_entry("models", MODELS[model_path])
    return shape_from_hf_config(data, name)


def run_row(row: dict[str, str]) -> dict[str, float]:
    """Predicted mean TTFT and TPOT (seconds) of one measured row, in closed loop at its stated concurrency
    (`concurrency`: the clients over all attention-DP ranks of the replica), with its serving path's front end
    (`validation.serving_row_rules`: a constant added to every TTFT; TPOT does not hold it)."""
    clients = {**row, "batch_size": str(concurrency(row))}  # `serving_hopper.run_row` takes its batch_size
    dep, cap = moe_deployment(row), campaign_settings.client_connections(row)
    if cap is not None:  # clients beyond the client's connections wait, in TTFT, as for the engine's batch cap
        dep = replace(dep, max_batch=min(dep.max_batch, cap))
    return serving_hopper.run_row(clients, dep, model_shape(row["model_path"]))


def roofline_work(row: dict[str, str]) -> dict[str, float]:
    """The naive roofline at efficiency 1: (local weights + KV read) / bandwidth; one prompt's FLOPs / peak."""
    dep = moe_deployment(row)
    return roofline_seconds(model_shape(row["model_path"]), row["system"], dep, dep,
                            (concurrency(row) or 0) / dep.attention_dp, int(row["isl"]), int(row["osl"]))


def group_of(row: dict[str, str]) -> str:
    """Model, GPU and backend: the unit of the per-model error table."""
    return f"{MODELS[row['model_path']]} {row['system'].split('_')[0]} {row['backend']}"


def sampled_rows(every: int = SAMPLE_EVERY) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(rows run, rows awaiting): every `every`-th expressible row of each group, in file order."""
    return sample_by_group(load_rows(), why_not, group_of, every)


def awaiting_summary(rows: list[dict[str, str]]) -> list[str]:
    """The rows not run, counted by model, system, backend and reason."""
    return awaiting_counts(rows, why_not)


def run_moe_validation(every: int = SAMPLE_EVERY) -> dict[str, Any]:
    """Predicted vs measured TTFT/TPOT of the sampled rows, the fitted-roofline baseline, errors by group."""
    rows, waiting = sampled_rows(every)
    return report_rows(rows, run_row, roofline_work, group_of, awaiting_summary(waiting))


def serving_moe_set() -> tuple[ValidationSet, list[Residual]]:
    """The set for `infraplan validate` (`validation.sets.EXTRA_SETS`): TTFT and TPOT of every sampled row."""
    return score_report(run_moe_validation(), SET_NAME, GATE_MEAN_ERROR)
