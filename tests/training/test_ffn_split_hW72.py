"""A plan whose TP (expert TP) leaves an FFN width fractional is refused on a Megatron stack (hW, session 72).

A user config.json of Llama 3 8B with `intermediate_size` 11009 (= 101 x 109) at TP 8 on nemo-26.04 priced a step
(3.64 s) that Megatron-Core's `divide` raises on; `search` ranked TP 2 first for it. A Qwen3-30B-A3B copy with
`moe_intermediate_size` 770 at expert TP 4 likewise. Now `train` says which width and the degrees dividing it (one
line, exit 2) and `search` prunes such plans with a note; torchtitan (its DTensor layers not read) prices as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.config_copies import config_copy, one_line_error

from infraplan.catalog.loader import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.training import estimate_training
from infraplan.training.ffn_split_rules import ffn_split_refused
from infraplan.training.plan import PlanArrays
from infraplan.training.search import search_plans


def test_a_dense_ffn_not_dividing_tp_is_refused_naming_the_tps(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    model = config_copy(tmp_path, "llama3-8b", "ffn11009", intermediate_size=11009)
    err = one_line_error(capsys, "train", model, "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8",
                         "--seq-len", "4096", "--global-batch", "64")
    assert "ffn11009's FFN width (intermediate_size) 11,009 is not divisible by TP 8 (TPs dividing it: 1)" in err
    assert "stack nemo-26.04" in err and "tensor_parallel/layers.py:842" in err
    assert err.endswith("; use a --tp dividing it"), err
    # TP 1 runs; the stock width at TP 8 runs
    assert estimate_training(model, "dgx-h100-superpod", gpus=8, tp=1, seq_len=4096, global_batch=64).step_time_s > 0
    assert estimate_training("llama3-8b", "dgx-h100-superpod", gpus=8, tp=8, seq_len=4096,
                             global_batch=64).step_time_s > 0


def test_a_routed_expert_width_not_dividing_expert_tp_is_refused(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    model = config_copy(tmp_path, "qwen3-30b-a3b", "moe770", moe_intermediate_size=770)
    common = ["--system", "dgx-h100-superpod", "--gpus", "64", "--ep", "8", "--seq-len", "4096", "--global-batch",
              "256"]
    err = one_line_error(capsys, "train", model, *common, "--tp", "4")
    assert ("moe770's routed expert width 770 is not divisible by expert TP 4 (expert TPs dividing it: 1, 2, 5, 7)"
            in err)
    assert err.endswith("; use a --tp (routed experts: --etp) dividing it"), err
    # expert TP 1 with TP 2 (parallel folding) runs: the routed split is expert TP's, the attention's TP's
    assert estimate_training(model, "dgx-h100-superpod", gpus=64, tp=2, ep=8, etp=1, seq_len=4096,
                             global_batch=256).step_time_s > 0


def test_search_prunes_the_plans_and_says_so(tmp_path: Path) -> None:
    model = config_copy(tmp_path, "llama3-8b", "ffn11009", intermediate_size=11009)
    result = search_plans(model, "dgx-h100-superpod", gpus=64, seq_len=4096, global_batch=256, top=10)
    assert result.top and {p.config.tp for p in result.top} == {1}
    assert any("plans not proposed: ffn11009's FFN width (intermediate_size) 11,009 not divisible" in n
               and n.endswith("; search keeps the TPs dividing it") for n in result.notes), result.notes


def test_torchtitan_prices_it_as_before(tmp_path: Path) -> None:
    model = config_copy(tmp_path, "llama3-8b", "ffn11009", intermediate_size=11009)
    estimate = estimate_training(model, "dgx-h100-superpod", gpus=8, tp=8, seq_len=4096, global_batch=64,
                                 stack="torchtitan")
    assert estimate.step_time_s > 0


def test_the_array_rule_is_the_one_plan_rule(tmp_path: Path) -> None:
    """The search's vectorised mask equals the one-plan verdict row by row (TP, expert TP over a grid)."""
    shape = load_model(config_copy(tmp_path, "qwen3-30b-a3b", "moe770", moe_intermediate_size=770))
    stack = load_stack("nemo-26.04")
    tps, etps = np.meshgrid([1, 2, 4, 8], [0, 1, 2, 4, 5, 8])
    fixed = dict(pp=1, dp=8, cp=1, ep=8, vpp=1, micro_batch=1, global_batch=64, seq_len=4096, recompute=0, zero=1,
                 dtype=0)
    plans = PlanArrays.build(tp=tps.ravel(), etp=etps.ravel(), **fixed)
    mask = np.asarray(ffn_split_refused(shape, plans, stack))
    one = [ffn_split_refused(shape, PlanArrays.build(tp=int(t), etp=int(e), **fixed), stack)
           for t, e in zip(tps.ravel(), etps.ravel(), strict=True)]
    assert mask.tolist() == one
    assert sum(one) == 10  # expert TP (etp, or TP where 0) 4 or 8: 4 + 4 rows; TP 4 / 8 at etp 0: 2 more
    assert ffn_split_refused(shape, plans, load_stack("torchtitan")) is False
