"""Proposed serving set (not in `validate`): measured GB200 / GB300 NVL72 disaggregated runs, closed-loop TTFT and TPOT.

The rows (`data/serving_measured_blackwell_disagg.csv`, 172) are the GB200 / GB300 disaggregated rows of NVIDIA
AIConfigurator 0.12.0's silicon sample whose source is an InferenceX database record (`db-dump/2026-04-27; config_id;
silicon_concurrency; measured; workflow_run_id; image`): measurements, not AIConfigurator's own estimates (the
wheel's adapter that reads such records, aiconfigurator 0.12.0 sdk/config_adapter/inferencex.py, turns them into
estimate requests; the sample keeps the record's measured TTFT / TPOT). DeepSeek-R1 (labelled DeepSeek-V3, as the
adapter's MODEL_PATHS maps "dsr1") and Kimi-K2.5 by TensorRT-LLM under NVIDIA Dynamo 0.5.1 / 0.8.1 / 1.1.0 images,
SGLang 0.5.5-0.5.8 and vLLM 0.18, fp4 and fp8. Each row runs through the Hopper disaggregated set's runner unchanged
(`serving_hopper_disagg.pair_deployment`, `pool_costs`, `simulate_disaggregated`, its front ends, stops and requests
per client) on the row's NVL72 system; a pool worker may span the whole NVLink domain (72 GPUs) instead of the HGX
set's 8 (`MAX_GPUS`).

What the columns are (session 67, hG; validation/notes/serving_blackwell_tried.md): the adapter writes each pool's
batch, not the engines': prefill 1 (its default, inferencex.py:165-166) and decode = concurrency / (decode workers x
attention DP) (:167-173); every row satisfies both (`adapter_batches`). One config_id (one deployment: one set of
engine settings) is swept over several concurrencies whose decode "batch" then runs from 1 to 141
(`config_sweeps`). The runner takes both as the engines' caps, as the Hopper set does; the engines' real
max_batch_size, router mode and whether the benchmark ignores end-of-sequence are not in the record.

The baseline is a constant: every row predicted at the set's median TTFT and median TPOT.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np

from infraplan.catalog.data_files import validation_rows
from infraplan.validation import campaign_settings
from infraplan.validation import serving_hopper_disagg as hopper
from infraplan.validation.serving_row_rules import SYSTEMS as ROW_SYSTEMS

SYSTEMS = {k: ROW_SYSTEMS[k] for k in ("gb200", "gb300")}  # the rows' `system` -> catalog system: the sets' one map
MAX_GPUS = 72  # one NVL72 domain: a pool worker larger than this spans racks (not modelled)
_int = campaign_settings.layout_count  # empty or "0" is 1, as the Hopper set reads the columns
WAIT_FRACTION = 0.2  # `wait_fraction` above this: the row's TTFT holds a wait for a decode slot (notes, hG67)


def load_rows() -> list[dict[str, str]]:
    """Every row of the proposed set, in file order."""
    return validation_rows("serving_measured_blackwell_disagg.csv")


def config_id(row: dict[str, str]) -> str:
    """The InferenceX deployment the row measured (`config_id=` in `silicon_data_source`)."""
    found = re.search(r"config_id=(\d+)", row["silicon_data_source"])
    if found is None:
        raise ValueError(f"serving validation row {row['id']}: no config_id in its source")
    return found.group(1)


def adapter_batches(row: dict[str, str]) -> bool:
    """Whether the row's pool batches are the adapter's derivations: prefill 1, decode = clients / (workers x DP)."""
    return (row["prefill_batch_size"] == "1"
            and hopper.concurrency(row) == hopper.decode_slots(row))


def config_sweeps(rows: list[dict[str, str]]) -> dict[str, list[int]]:
    """config_id -> the decode batches the adapter wrote over that deployment's concurrencies (sorted, distinct)."""
    sweeps: dict[str, set[int]] = {}
    for row in rows:
        sweeps.setdefault(config_id(row), set()).add(int(row["decode_batch_size"]))
    return {key: sorted(batches) for key, batches in sweeps.items()}


def wait_fraction(row: dict[str, str]) -> float:
    """Measured TTFT over one request's measured decode time ((OSL - 1) x TPOT): ~0.03-0.07 where a request starts
    decoding as its KV arrives, ~0.3-0.9 where it waits for another request's decode to end first."""
    return float(row["silicon_ttft_ms"]) / ((int(row["osl"]) - 1) * float(row["silicon_tpot_ms"]))


def why_not(row: dict[str, str]) -> str | None:
    """Why the row is not run, or None (the Hopper set's reasons, with the NVL72 domain as the worker limit)."""
    if row["model_path"] not in hopper.MODELS:
        return "no HF config.json at hand for this model (no catalog preset)"
    if row["precision"] not in ("fp4", "fp8"):
        return f"precision {row['precision']!r} not mapped"
    for pool in hopper.POOLS:
        tp, adp = _int(row[f"{pool}_tp_size"]), _int(row[f"{pool}_attention_dp_size"])
        ep_world = _int(row[f"{pool}_moe_tp_size"]) * _int(row[f"{pool}_moe_ep_size"])
        if hopper.model_shape(row["model_path"]).is_moe and tp * adp != ep_world:
            return f"{pool} attention TP x DP differs from MoE TP x EP (the layout is not stated in full)"
        if tp * adp * _int(row[f"{pool}_pp_size"]) > MAX_GPUS:
            return f"{pool} workers of {tp * adp} GPUs span several NVL72 domains"
    return None


def run_row(row: dict[str, str]) -> dict[str, float]:
    """Predicted mean TTFT and TPOT (seconds) of one row, closed loop: the Hopper disaggregated set's runner on the
    row's NVL72 system."""
    return hopper.run_row(row, SYSTEMS)


@cache
def constant_baseline() -> dict[str, float]:
    """The constant baseline over the runnable rows: the median measured TTFT / TPOT and its mean |error|."""
    rows = [r for r in load_rows() if why_not(r) is None]
    out: dict[str, float] = {}
    for metric, column in (("ttft_s", "silicon_ttft_ms"), ("tpot_s", "silicon_tpot_ms")):
        measured = np.array([float(r[column]) / 1e3 for r in rows])
        constant = float(np.median(measured))
        out[metric] = constant
        out[f"{metric}_mean_abs_error"] = float(np.mean(np.abs(constant / measured - 1.0)))
    return out


def report(rows: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Predicted vs measured over `rows` (default every runnable row: minutes of CPU, which is why `validate` does
    not run this set): mean |error| of TTFT and TPOT, with and without the rows whose TTFT holds a slot wait."""
    rows = [r for r in (rows if rows is not None else load_rows()) if why_not(r) is None]
    errors, unfit = [], []
    for row in rows:
        try:
            predicted = run_row(row)
        except ValueError as error:  # a pool that does not fit as stated (3 SGLang fp8 prefill rows)
            unfit.append(str(error))
            continue
        errors.append((predicted["ttft_s"] * 1e3 / float(row["silicon_ttft_ms"]) - 1.0,
                       predicted["tpot_s"] * 1e3 / float(row["silicon_tpot_ms"]) - 1.0,
                       wait_fraction(row) > WAIT_FRACTION))
    ttft, tpot, waited = (np.array([e[i] for e in errors]) for i in range(3))
    if not errors:
        raise ValueError("no runnable row")
    calm = ~waited.astype(bool)
    return {"rows": len(errors), "not_fitting": unfit, "ttft_mean_abs_error": float(np.mean(np.abs(ttft))),
            "tpot_mean_abs_error": float(np.mean(np.abs(tpot))),
            "rows_without_slot_wait": int(np.sum(calm)),
            "ttft_mean_abs_error_without_slot_wait": float(np.mean(np.abs(ttft[calm]))) if calm.any() else 0.0,
            "baseline": constant_baseline()}
