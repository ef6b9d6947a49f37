"""hI67 mutation wave on hD66's refusal of deferred wgrads under TP userbuffers (`tp_overlap.
deferred_wgrad_userbuffers_refused`): per plan, only where the userbuffers run.

Transformer Engine runs its TP userbuffers only with sequence parallelism (the reason hD66 quotes: the stack's
tp_comm_overlap_fraction "run at TP > 1 with sequence parallelism"; Megatron-Core 0.16.1 builds QKV / FC1 with
tp_comm_bulk_wgrad only under SP, extensions/transformer_engine.py:782-783), so in a grid where some TP > 1 plans run
without SP, those plans defer their wgrads without a userbuffer wgrad GEMM and TE 2.14's assert (module/_common.py
:212-216) does not fire for them. hD66's tests saw single plans (SP off: no plan runs userbuffers, the early return)
and search rows (SP on at every TP > 1), never a mixed grid.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.training import tp_overlap
from infraplan.training.estimate import estimate_training
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

NEMO = load_stack("nemo-26.04")


def test_tp_plans_without_sp_in_a_mixed_grid_are_not_refused() -> None:
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": True})
    stack = NEMO.model_copy(update={"moe": moe, "expert_parallel_layout": "ep-inside-dp",
                                    "pipeline_split_divisible": False})
    shape = load_model("qwen3-30b-a3b")
    rows = enumerate_plans(shape, 16, 4096, 64, ["bf16"], 8)
    rows = rows.take(np.flatnonzero(valid_mask(shape, rows) & (rows.tp > 1) & (rows.ep > 1) & (rows.pp == 1)
                                    & (rows.recompute != 2))[:40])
    sp = np.arange(len(rows.tp)) % 2  # every other plan without sequence parallelism
    mixed = dataclasses.replace(rows, sequence_parallel=sp.astype(rows.sequence_parallel.dtype))
    refused = np.asarray(tp_overlap.deferred_wgrad_userbuffers_refused(shape, mixed, stack))
    assert len(sp) >= 10 and np.array_equal(refused, sp == 1)


def test_train_at_pp_2_without_virtual_stages_runs_no_deferral_to_refuse() -> None:
    """Megatron-Core runs the combined 1F1B (and so the deferral) at PP > 1 only with virtual stages (transformer_
    config.py:1855-1877): `train` at PP 2, VP 1, TP 2 with userbuffers runs (nothing deferred); at VP 2 TE refuses
    it. Only `search`'s rows stand for their VP pairs."""
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": True})
    stack = NEMO.model_copy(update={"moe": moe, "expert_parallel_layout": "ep-inside-dp",
                                    "pipeline_split_divisible": False})
    kw = {"tp": 2, "pp": 2, "ep": 8, "seq_len": 4096, "global_batch": 512, "micro_batch": 1, "stack": stack}
    assert estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 64, vpp=1, **kw).step_time_s > 0.0  # type: ignore[arg-type]
    with pytest.raises(InputError, match="delay_wgrad_compute does not run with TP userbuffers"):
        estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 64, vpp=2, **kw)  # type: ignore[arg-type]
