"""Serving validation on measured Blackwell runs: closed-loop TTFT and TPOT on B200, B300 and GB200 (issue 13).

The set (`data/serving_measured_blackwell.csv`) is the Blackwell part of NVIDIA AIConfigurator's silicon sample
(aiconfigurator-core 0.12.0 wheel, Apache-2.0 data), the same public sample as the Hopper sets: aggregated
(colocated) serving of Llama 3.1 70B, Qwen3 32B, DeepSeek-R1 / V3, GPT-OSS 120B and Kimi-K2.5 on b200_sxm (DGX
B200), b300_sxm (DGX B300) and gb200 (GB200 NVL72) by TensorRT-LLM, vLLM and SGLang, each row a closed-loop
benchmark of `concurrency` clients at a fixed ISL / OSL with its measured mean TTFT and TPOT. The sample's other
aggregated Blackwell rows (MiniMax-M2.5, Qwen3.5-397B-A17B, GLM-5 and NVIDIA's NVFP4 re-exports, no preset) are
counted in the data file's header; its disaggregated Blackwell rows are not run here.

No rule of its own: every row runs through the Hopper sets' runner and rules.
* Deployment: a dense checkpoint's (`serving_hopper.MODELS`) by `serving_hopper.row_deployment`, an MoE / MLA
  one's (`serving_hopper_moe.MODELS`) by `serving_hopper_moe.moe_deployment` (its layout, MTP campaigns of
  `campaign_settings`, the TensorRT-LLM attention-DP rows' context balancing `ADP_BALANCE_CAMPAIGN`: their TTFT is
  25-100 of their own decode iterations; session 52, 20.572 -> 20.109 %); the campaign's engine limits, stacks by
  release (`release_stacks`: vLLM 0.15.1 / 0.17.0 / 0.19.0 schedule ahead, their default read in the wheels; session
  53, 20.109 -> 20.064 %), Dynamo KV fraction and SGLang flags as there. SGLang's chunked_prefill_size is the
  GPU's (`serving.sglang_memory.default_chunked_prefill_tokens`: 16384 above 160 GiB, so B200 / B300; 8192 on H100 /
  H200, as before).
* Precision "fp4" (gemm / moe quant mode nvfp4 in the source) is the checkpoint's stored fp4 format where its preset
  stores one (GPT-OSS: MXFP4, `TransformerShape.checkpoint_weight_dtype`; the MoE set's mapping, KV bf16), else NVFP4
  W4A4 with an fp8 KV cache (NVIDIA's NVFP4 checkpoints; the frontier set's and `frontier_silicon`'s mapping,
  ASSUMPTION there: the source states the GEMM quantisation only). fp8, int4 (Kimi's INT4 QAT checkpoint, W4A16:
  vLLM's Marlin MoE at the part's `mma.sync` rate, the catalog's `weight_only_matmul_fraction` from AIConfigurator's
  tables; session 54, 20.033 -> 19.745 %) and empty (bf16) as the Hopper sets. The NVFP4 MoE exports keep some layers
  in bf16: an "fp4" row of DeepSeek-R1 / V3 or Kimi-K2.5 runs its NVIDIA export's published scope
  (`data/fp4_checkpoints.yaml`, each with its source, read by `catalog.model_config_quantization`; toggle
  `PUBLISHED_FP4_SCOPE`, hF83): attention in bf16, the dense MLP, shared and routed experts in nvfp4, for every
  engine. With Blackwell's fused NVFP4 MoE (`serving.trtllm_gen_moe`) the set 21.32 -> 20.89 % on the session-50 tree
  (scope alone 21.37, rule alone 21.08).
* Rows not run (`why_not`), one rule each as the MoE set's (`serving_hopper_moe.layout_why_not`,
  `serving_row_consistency`): no preset, no stated concurrency, concurrency not batch_size x attention DP, a
  layout not stated in full, more GPUs than the system's NVLink domain (8 on DGX B200 / B300, 72 on GB200 NVL72),
  numbers contradicting other rows (Little's law, TPOT against concurrency, irreproducible repeats, TTFT against
  concurrency), rows of a
  campaign (`campaign_of`: one export of one checkpoint, system, engine and release) some of whose rows state a
  tp_size that does not divide the model's attention heads (GB200 DeepSeek-R1 "TP" 12-72 for 128 heads: that
  column is not the attention TP there, so no row of the campaign is read as stated; each of those 55 rows has
  a "disagg" twin in its export, same clients, ISL / OSL and GPU count in every layout column, TPOT within 2 % in
  52: disaggregated deployments whose prefill / decode split the source does not state, hB73), a repeat of
  another row's measurement (scored once), and rows the serving model refuses (`_outcome`: the reason it gives,
  e.g. weights leaving no room for a KV cache).
* Run: `serving_hopper.run_row` at the stated clients (10 requests per client, the harness's early-stop rule,
  the front end by serving path, the client's round trip), with the client's connection cap where a campaign
  had one (`campaign_settings.client_connections`).

Measured 2026-12-04 (every row; notes file): 707 rows scored (B200 675, B300 32; every GB200 row is left out), 537 not
(225 beyond one NVLink domain, 216 repeats, 55 of GB200 campaigns whose tp_size is not attention TP, 23 inconsistent, 14
without a stated or consistent concurrency, 4 refused); since hB73 709 (GB200 2: the dense campaign's "0" layout columns
read as one rank, `serving_hopper_moe._int`), 23.742 -> 23.738 %; since hA84 706 (rule 4 of
`serving_row_consistency`, TTFT against concurrency: 3 warm-up rows, below), 20.886 -> 20.718 % on session 50's
tree. Mean |error| TTFT 37.7 %, TPOT 13.4 %, both 25.6 % (max 769 %), fitted roofline 63.9 %: the model beats
the baseline, the 15 % gate is not met. Findings (not fitted):
SGLang TTFT under-predicted (median -61 %; -36 % with the InferenceX campaigns' scheduler receive interval priced,
`campaign_settings.sglang_recv_interval`, hS80), TensorRT-LLM DeepSeek TTFT under (-29..-56 %) and Llama TTFT over
(+14..+20 %), GPT-OSS TPOT over (+22..+41 %; +10..+22 % median by release since session 50's fused MXFP4 MoE,
hO80); B300 as B200. Memory (session 49): with the catalog's B200 at 180 GiB
(AIConfigurator's figure, was 180 GB) every vLLM row's KV cache holds its clients (Kimi nvfp4 TP4 had 43 of 64) and the
set is 23.75 % (TTFT 34.15, TPOT 13.35); SGLang's pool as its source sizes it (`serving.sglang_memory`, the fraction of
the memory free before the weights) 23.74 % (3 KV-bound DeepSeek TP8 rows move). The 4 refused rows are SGLang 0.5.9
DeepSeek-R1 fp8 TP4 on B200, which SGLang's own default refuses as well (f 0.856 x ~179 GiB < 157 GiB of weights): their
campaign set --mem-fraction-static, a value the source lacks (tests/validation/test_serving_blackwell.py: the hand
count, and a strict xfail for the measured deployment). Squeezed by their pool and measured queued too (TTFT 23-137 s):
TensorRT-LLM Llama-70B TP1 at 128 clients (0.54-0.68 of the tokens).

Three SGLang campaigns the model misses, each decided (session 50, hA84; the hand counts in the notes file, round 9):
* DeepSeek-R1 nvfp4, unversioned image, 2025-11-10 (db dump configs 88 / 99, workflow_run_id 122-124, 33 rows): a
  measurement artifact. TTFT 5-9 s flat in clients once a wave's prompts pass one 16,384-token prefill chunk (1k x 32,
  8k x 4; 1k x 16 = 16,384 is one chunk and measures 0.6-0.9 s): a one-off ~50-90 s stall (10 requests a client, so
  stall / 10 on the mean TTFT whatever the clients) inside the measurement (ASSUMPTION: warm-up / JIT of the chunked-
  prefill path; the image is not named). Rule 4 of `serving_row_consistency` (TTFT against concurrency) sets aside the
  3 rows the same config's 2025-11-02 run contradicts; no uniform rule names the other 30 without the model: they stay
  scored, named here.
* DeepSeek-R1 fp8 0.5.9 TP8 (export 2026-03-25.csv): a second series with the db dump's source fields, TPOT 0.67-0.91x
  the db-dump record of the same labels and falling 12-17 % from OSL 1k to 8k: MTP (a setting the model takes, as
  `campaign_settings.SPECULATIVE_CAMPAIGNS`), but no source field tells its rows from the db series' export copies:
  not priced (scratch: MTP on its 7 scored rows with a db twin 20.886 -> 20.733 %).
* DeepSeek-V3 fp8 0.5.10.post1 on B300 TP4 / TP8 8,192-token prompts: physics the model misses (strict xfail
  tests/validation/test_serving_blackwell_campaigns_hA84.py): each 8k prefill stalls the decodes ~3.0 s more than the
  model's at TP4 (~1.5 s at TP8; from the TPOT excess at 4-32 clients), 1k prompts ~0.1 s; the nvfp4 rows of the release
  show it too, vLLM's MLA (Kimi-K2.5) on B300 does not: a slow long-prompt prefill path of that release on sm_103.

The baseline is the Hopper sets' fitted-efficiency roofline (`serving_row_rules`), one efficiency per metric fitted to
this set. The gate is issue 13's serving gate, 15 %; the set is reported (`validate`'s sets are not enforced) and
its rows' residuals feed the error bands (`validation.bands`: family `blackwell`), so a Blackwell serving answer's
band comes from Blackwell rows. Errors by group (checkpoint, GPU, engine release, precision) are in
`blackwell_report()["groups"]`; results and findings: validation/notes/serving_blackwell_tried.md.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from infraplan.catalog import load_model
from infraplan.catalog.data_files import validation_rows
from infraplan.catalog.error_bands import Residual
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.catalog.model_config_quantization import with_checkpoint_scope
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.llm_iteration import Deployment
from infraplan.validation import campaign_settings, serving_hopper, serving_hopper_moe
from infraplan.validation import serving_row_consistency as consistency
from infraplan.validation.release_stacks import data_stack, row_stack
from infraplan.validation.results import ValidationSet
from infraplan.validation.serving_report import awaiting_counts, report_rows, sample_by_group, score_report
from infraplan.validation.serving_row_rules import SYSTEMS, roofline_seconds

DATA_FILE = "serving_measured_blackwell.csv"
SET_NAME = "serving Blackwell (closed loop)"
GATE_MEAN_ERROR = 0.15  # issue 13's serving gate
SAMPLE_EVERY = 1  # `validate` scores every row; n > 1: every n-th expressible row of each group, in file order
DENSE_MODELS: dict[str, str] = {path: preset for path, (preset, _) in serving_hopper.MODELS.items()}
MODELS: dict[str, str] = {**DENSE_MODELS, **serving_hopper_moe.MODELS}  # checkpoint -> catalog preset
PRECISIONS = ("", "bf16", "fp8", "int4", "fp4")  # the rows' precision column values run (module docstring)
FP4_CHECKPOINT_FORMATS = ("mxfp4", "nvfp4")  # a preset storing one of these serves "fp4" rows in it
FP4_CHECKPOINTS_FILE = "fp4_checkpoints.yaml"  # the NVFP4 exports the "fp4" MoE rows ran (module docstring)
PUBLISHED_FP4_SCOPE = True  # an "fp4" row runs its export's published scope (module docstring; toggle to compare)
REFUSED = "the serving model refuses the deployment: {why}"
TP_NOT_ATTENTION = ("the campaign's tp_size is not attention TP: in some of its rows it does not divide the model's "
                    "attention heads; it is a disaggregated deployment's GPU count (the layout is not stated in full)")


def load_rows() -> list[dict[str, str]]:
    """Every row of the data file, in file order."""
    return list(_rows())


@cache
def _rows() -> tuple[dict[str, str], ...]:
    return tuple(validation_rows(DATA_FILE))


class Fp4Checkpoint(BaseModel):
    """The NVFP4 export an "fp4" row of a base checkpoint ran (`data/fp4_checkpoints.yaml`): its published scope."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    export: str  # the export's name (the `quantization_config` reader's name for it)
    source: str  # where its `quantization_config` is published
    quantization_config: dict[str, Any]  # as the export's config states it


@cache
def fp4_checkpoints() -> dict[str, Fp4Checkpoint]:
    """Base checkpoint -> the NVFP4 export its "fp4" rows ran (module docstring)."""
    text = (resources.files("infraplan.validation") / "data" / FP4_CHECKPOINTS_FILE).read_text("utf-8")
    return {path: Fp4Checkpoint(**spec) for path, spec in safe_load_yaml(text)["checkpoints"].items()}


def shape(row: dict[str, str]) -> TransformerShape:
    """The row's model: its checkpoint's catalog preset; an "fp4" row of a checkpoint with an NVFP4 export in the data
    file carries that export's stored format and scope (module docstring)."""
    return _shape(row["model_path"], PUBLISHED_FP4_SCOPE and row.get("precision") == "fp4")


@cache
def _shape(path: str, published_fp4: bool) -> TransformerShape:
    preset, spec = load_model(MODELS[path]), fp4_checkpoints().get(path) if published_fp4 else None
    if spec is None:
        return preset
    with warnings.catch_warnings():  # how the reader took the export's names (a wrapper's prefix) is the file's
        warnings.simplefilter("ignore", ModelConfigWarning)
        return with_checkpoint_scope(preset, {"quantization_config": spec.quantization_config}, spec.export)


def nvlink_domain(row: dict[str, str]) -> int:
    """The GPUs of one NVLink domain of the row's system (the most a TP / EP layout spans here)."""
    return Cluster.resolve(SYSTEMS[row["system"]]).system.node.scale_up_domain


def weight_formats(row: dict[str, str]) -> tuple[str, str] | None:
    """(weight dtype, KV dtype) of an "fp4" row (module docstring); None for other precisions (the Hopper rule)."""
    if row["precision"] != "fp4":
        return None
    stored = shape(row).checkpoint_weight_dtype
    fmt = stored if stored in FP4_CHECKPOINT_FORMATS else "nvfp4"
    return (fmt, "fp8") if fmt == "nvfp4" else (fmt, "bf16")


def deployment(row: dict[str, str]) -> Deployment:
    """The row's deployment by the Hopper sets' rules (module docstring), its fp4 formats and client cap."""
    dense = row["model_path"] in DENSE_MODELS
    dep = serving_hopper.row_deployment(row) if dense else serving_hopper_moe.moe_deployment(row)
    formats = weight_formats(row)
    if formats is not None:
        dep = replace(dep, dtype=formats[0], kv_dtype=formats[1])
    cap = campaign_settings.client_connections(row)
    if (interval := campaign_settings.sglang_recv_interval(row)) > 1:  # the campaign's receive interval
        dep = replace(dep, stack=data_stack(campaign_settings.RECV_INTERVAL_STACKS[interval]))
    return dep if cap is None else replace(dep, max_batch=min(dep.max_batch, cap))


def run_row(row: dict[str, str]) -> dict[str, float]:
    """Predicted mean TTFT and TPOT (seconds) of one row in closed loop at its stated clients."""
    clients = {**row, "batch_size": str(serving_hopper_moe.concurrency(row))}  # run_row runs batch_size clients
    return serving_hopper.run_row(clients, deployment(row), shape(row))


def roofline_work(row: dict[str, str]) -> dict[str, float]:
    """The naive roofline at efficiency 1: (local weights + KV read) / bandwidth; one prompt's FLOPs / peak."""
    dep = deployment(row)
    return roofline_seconds(shape(row), row["system"], dep, dep,
                            (serving_hopper_moe.concurrency(row) or 0) / dep.attention_dp, int(row["isl"]),
                            int(row["osl"]))


def inconsistent_rows() -> dict[str, str]:
    """Rows whose numbers contradict other rows of this set (`serving_row_consistency`, the MoE set's four rules)."""
    return _inconsistent(*consistency.rule_switches())


@cache
def _inconsistent(*switches: object) -> dict[str, str]:  # the rules' toggles and ratios: the key
    return consistency.contradicting_rows(load_rows(), serving_hopper_moe.concurrency)


def campaign_of(row: dict[str, str]) -> tuple[str, ...]:
    """One export of one campaign: source file (or db dump), checkpoint, system, engine and release."""
    source = row["silicon_data_source"].split(";")[0]
    return source, row["model_path"], row["system"], row["backend"], row["backend_version"]


@cache
def _tp_not_attention() -> frozenset[tuple[str, ...]]:
    """Campaigns one of whose rows states a TP that does not divide the model's attention heads (module docstring)."""
    return frozenset(campaign_of(r) for r in load_rows()
                     if r["model_path"] in MODELS and shape(r).num_heads % int(r["tp_size"] or 1))


def _layout_why_not(row: dict[str, str]) -> str | None:
    if campaign_of(row) in _tp_not_attention():
        return TP_NOT_ATTENTION
    return inconsistent_rows().get(row["id"]) or serving_hopper_moe.layout_why_not(
        row, MODELS, nvlink_domain(row), PRECISIONS)


@cache
def _outcome(row_id: str) -> dict[str, float] | str:
    """The row's prediction (`run_row`), or why the serving model refuses it (`InputError` / `ValueError`: a layout
    it cannot build, e.g. heads not divisible by the TP, or weights leaving no KV cache), once per process."""
    row = next(r for r in load_rows() if r["id"] == row_id)
    try:
        return run_row(row)
    except (InputError, ValueError) as error:
        return REFUSED.format(why=str(error).splitlines()[0].removeprefix(f"serving validation row {row_id}: ")[:160])


def predicted(row: dict[str, str]) -> dict[str, float]:
    """`run_row` of a scored row, once per process (the report and the error bands' residuals)."""
    found = _outcome(row["id"])
    if isinstance(found, str):
        raise ValueError(f"serving Blackwell row {row['id']}: {found}")
    return found


@cache
def _repeated(count_once: bool, decimals: int | None) -> dict[str, str]:  # the toggles key the cache
    return consistency.repeated_measurements(load_rows(), lambda r: _layout_why_not(r) is None)


def why_not(row: dict[str, str]) -> str | None:
    """Why the row is not scored (module docstring), or None."""
    return (_layout_why_not(row)
            or _repeated(consistency.COUNT_REPEATS_ONCE, consistency.REPEAT_DECIMALS).get(row["id"])
            or (found if isinstance(found := _outcome(row["id"]), str) else None))


def group_of(row: dict[str, str]) -> str:
    """Checkpoint, GPU, engine release and precision: the unit of the per-group error table."""
    return f"{MODELS[row['model_path']]} {row['system'].split('_')[0]} {row_stack(row)} {row['precision'] or 'bf16'}"


def sampled_rows(every: int = SAMPLE_EVERY) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(rows run, rows not run): every `every`-th expressible row of each group, in file order."""
    return sample_by_group(load_rows(), why_not, group_of, every)


def blackwell_report() -> dict[str, Any]:
    """Predicted vs measured TTFT / TPOT of every scored row, the fitted roofline, errors by group and summary
    (computed once per process; each call gets its own copy of the top-level dict)."""
    return dict(_report())


@cache
def _report() -> dict[str, Any]:
    rows, waiting = sampled_rows()
    out = report_rows(rows, predicted, roofline_work, group_of, awaiting_counts(waiting, why_not))
    out["summary"] = summary(out, waiting)
    return out


def summary(out: dict[str, Any], waiting: list[dict[str, str]]) -> dict[str, Any]:
    """Mean |error| TTFT / TPOT / both, max, the baseline, and median signed errors by GPU and by engine."""
    ttft, tpot = out["errors"]["ttft_s"], out["errors"]["tpot_s"]
    both = np.abs(np.concatenate([ttft, tpot]))
    base = np.abs(np.concatenate([out["baseline"]["ttft_s"], out["baseline"]["tpot_s"]]))
    reasons: dict[str, int] = {}
    for row in waiting:
        reason = re.sub(r"^a repeat of row [^:]+", "a repeat of another row", str(why_not(row)))
        reason = re.sub(r"^\d+ GPUs \(attention TP \d+\)", "N GPUs", reason.split(": ")[0])
        reasons[reason] = reasons.get(reason, 0) + 1
    signs: dict[str, dict[str, float]] = {}
    for key in ("system", "backend"):
        for value in sorted({r[key] for r in out["rows"]}):
            idx = [i for i, r in enumerate(out["rows"]) if r[key] == value]
            signs[f"{key} {value}"] = {"rows": len(idx), "ttft_median_error": float(np.median(ttft[idx])),
                                       "tpot_median_error": float(np.median(tpot[idx]))}
    return {"rows": len(out["rows"]), "gated_cases": 2 * len(out["rows"]), "not_run_rows": len(waiting),
            "not_run_by_reason": reasons, "mean_abs_error": float(both.mean()), "max_abs_error": float(both.max()),
            "baseline_max_abs_error": float(base.max()), "enforced": False,  # reported, as `validate`'s other sets
            "mean_abs_error_ttft": float(np.mean(np.abs(ttft))), "mean_abs_error_tpot": float(np.mean(np.abs(tpot))),
            "baseline_mean_abs_error": float(base.mean()), "beats_baseline": bool(both.mean() < base.mean()),
            "gate": {"mean": GATE_MEAN_ERROR},
            "passes_gate": bool(both.mean() <= GATE_MEAN_ERROR and both.mean() < base.mean()),
            "median_signed_error": signs}


def serving_blackwell_set() -> tuple[ValidationSet, list[Residual]]:
    """The set for `infraplan validate` (`validation.sets.EXTRA_SETS`): TTFT and TPOT of every scored row."""
    return score_report(_report(), SET_NAME, GATE_MEAN_ERROR)
