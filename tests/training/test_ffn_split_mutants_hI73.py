"""Mutants of session 72's FFN split rule (`ops.ffn_split`, `training.ffn_split_rules`) the hW72 tests let live (hI73).

Each width a framework splits is checked against its own degree: an MoE model's shared experts and dense layers over
TP, its routed experts over expert TP (megatron-core 0.16.1 `divide` in ColumnParallelLinear / RowParallelLinear for
the dense and shared FFN, tensor_parallel/layers.py:842, :1166; TEGroupedLinear over the expert TP group for the
routed ones, extensions/transformer_engine.py:1525-1527). The hW72 tests changed only the dense model's width and the
routed width at TP = expert TP, so dropping the shared or the dense-layer width from the check, or checking the routed
width against TP, passed them. Widths here are hand-factored: 18,450 = 2 x 3^2 x 5^2 x 41, 2,050 = 2 x 5^2 x 41,
770 = 2 x 5 x 7 x 11.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.config_copies import config_copy, one_line_error

from infraplan.catalog.loader import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.training.ffn_split_rules import ffn_split_reason, ffn_split_refused
from infraplan.training.plan import PlanArrays

TRAIN = ["--system", "dgx-h100-superpod", "--seq-len", "4096"]
FIXED = dict(pp=1, cp=1, ep=8, vpp=1, micro_batch=1, seq_len=4096, recompute=0, zero=1, dtype=0)


def _plan(tp: int, etp: int) -> PlanArrays:
    return PlanArrays.build(tp=tp, etp=etp, dp=8, global_batch=64, **FIXED)


def test_deepseeks_dense_layer_width_is_split_over_tp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """DeepSeek-V3's first 3 layers are dense FFNs of `intermediate_size` (18,432 shipped), split over TP."""
    model = config_copy(tmp_path, "deepseek-v3", "dense18450", intermediate_size=18450)
    err = one_line_error(capsys, "train", model, *TRAIN, "--gpus", "256", "--tp", "4", "--ep", "8", "--etp", "1",
                         "--global-batch", "1024")
    assert ("dense18450's dense layers' FFN width 18,450 is not divisible by TP 4 (TPs dividing it: 1, 2, 3, 5, 6)"
            in err), err
    shape, stack = load_model(model), load_stack("nemo-26.04")
    assert ffn_split_refused(shape, _plan(4, 1), stack) is True
    assert ffn_split_refused(shape, _plan(2, 1), stack) is False  # 18,450 / 2 = 9,225 columns a rank
    assert ffn_split_refused(shape, _plan(2, 2), stack) is False  # routed 2,048 / 2, shared 2,048 / 2


def test_deepseeks_shared_expert_width_is_split_over_tp_not_expert_tp(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # DeepSeek's shared expert is n_shared_experts x moe_intermediate_size (transformers' deepseek_v3 reads no
    # shared_expert_intermediate_size, hW74): one shared expert 2,050 wide, routed ones too (expert TP 1 keeps them)
    model = config_copy(tmp_path, "deepseek-v3", "shared2050", moe_intermediate_size=2050)
    err = one_line_error(capsys, "train", model, *TRAIN, "--gpus", "256", "--tp", "4", "--ep", "8", "--etp", "1",
                         "--global-batch", "1024")
    assert "shared2050's shared expert width 2,050 is not divisible by TP 4 (TPs dividing it: 1, 2, 5)" in err, err
    shape, stack = load_model(model), load_stack("nemo-26.04")
    assert ffn_split_refused(shape, _plan(2, 1), stack) is False  # 1,025 a rank; routed whole at expert TP 1
    assert ffn_split_refused(shape, _plan(4, 1), stack) is True  # the shared width at TP 4, whatever expert TP


def test_the_routed_width_is_named_with_expert_tp_when_tp_divides_it(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """TP 2 divides 770 (385 a rank), expert TP 4 does not: the line names the routed width at expert TP 4."""
    model = config_copy(tmp_path, "qwen3-30b-a3b", "moe770", moe_intermediate_size=770)
    err = one_line_error(capsys, "train", model, *TRAIN, "--gpus", "64", "--tp", "2", "--ep", "8", "--etp", "4",
                         "--global-batch", "256")
    assert "moe770's routed expert width 770 is not divisible by expert TP 4 (expert TPs dividing it: 1, 2, 5, 7)" \
        in err, err


def test_search_names_only_the_widths_the_model_has(tmp_path: Path) -> None:
    """A plans' reason (`search`'s note) lists the model's widths: Qwen3-30B-A3B has no shared experts and no dense
    layers, so no 0-wide shared or dense width is named."""
    shape = load_model(config_copy(tmp_path, "qwen3-30b-a3b", "moe770", moe_intermediate_size=770))
    plans = PlanArrays.build(tp=np.array([1, 2]), etp=np.array([4, 8]), dp=8, global_batch=64, **FIXED)
    reason = ffn_split_reason(shape, plans, load_stack("nemo-26.04"))
    assert reason.startswith("moe770's routed expert width 770 not divisible by the plan's TP / expert TP on stack "
                             "nemo-26.04"), reason
    assert "shared" not in reason and "dense" not in reason
