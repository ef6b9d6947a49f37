"""hI64: hP63's two survivors in `sp_regather.frozen_regather_s` (L15, L16), killed by Transformer Engine's rule.

TE 2.14 re-gathers a column-parallel GEMM's input for backward only for a weight gradient (linear.py:380-382,
layernorm_linear.py:412-414 `weight.requires_grad and parallel_mode == "column" and sequence_parallel`), and
Megatron-Bridge 0.6.0's adapters take no re-gather of theirs (peft/lora.py:108). A LoRA step (frozen base) therefore
re-gathers nothing: its time cannot depend on whether the re-gather is priced (`sp_regather.SP_WGRAD_REGATHER`).
`frozen_base` reaches that by taking out exactly what `layer_time` added; a `frozen_regather_s` that prices the
re-gather differently from `layer_time` breaks it where the re-gather is partly exposed:
- L15 (the wgrad's output at the operand width instead of the fp32 main gradient, `main_grad_wgrad_bytes`): at few
  tokens the wgrad GEMM is bound by its k x n output, so its width moves the dgrad window the re-gather hides under;
- L16 (the search grid's gather ratio without the bf16 layer share): a stack file that gathers in the GEMMs' format
  and keeps NVFP4's recipe share of bf16 layers (10 of 62, arXiv:2509.25149 sec. 4.1) instead of nemo-26.04's 0.0.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training import sp_regather
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.frozen_base import lora_spec
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.search_rows import frozen_step_time


def _tp_comm(regather: bool, lora_rank: int | None) -> float:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sp_regather, "SP_WGRAD_REGATHER", regather)
        clear_one_plan_memo()
        return estimate_training(model="llama3-70b", system="dgx-h100-superpod", gpus=8, tp=8, pp=1, seq_len=512,
                                 global_batch=1, dtype="bf16", sequence_parallel=True, lora_rank=lora_rank,
                                 stack="nemo-24.12").breakdown_s.tp_comm


def test_a_lora_step_does_not_move_with_the_regather_priced_at_few_tokens() -> None:
    """Llama 3 70B, TP8 under SP, 512 tokens a micro-batch on nemo-24.12 (TE's async path, wgrad into the fp32
    main gradient): full training prices an exposed re-gather here; LoRA's TP time is the same priced or not."""
    assert _tp_comm(True, None) > _tp_comm(False, None)  # (the re-gather is exposed at this plan)
    assert _tp_comm(True, 16) == pytest.approx(_tp_comm(False, 16), rel=1e-12)


def test_a_lora_search_grid_does_not_move_with_the_regather_priced_under_nvfp4_bf16_layers() -> None:
    """A search grid (two rows of one plan) of Llama 3 70B on 8 B200, NVFP4 with the recipe's bf16 layers kept
    (a user's nemo-26.04 copy without `nvfp4_bf16_layer_share`), TP8 under SP, LoRA rank 16: the same step times
    with the re-gather priced or not, and the one plan's time (the grid is the same terms element-wise)."""
    stack = load_stack("nemo-26.04").model_copy(update={"nvfp4_bf16_layer_share": None})
    point = resolve_training("llama3-70b", "dgx-b200", 8, tp=8, pp=1, seq_len=1024, global_batch=1, dtype="nvfp4",
                             sequence_parallel=True, lora_rank=16, stack=stack)
    spec = lora_spec(point.shape, 16)

    def steps(regather: bool, grid: bool = True) -> list[float]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sp_regather, "SP_WGRAD_REGATHER", regather)
            clear_one_plan_memo()
            plan = point.plan.take(np.array([0, 0])) if grid else point.plan
            return [float(s) for s in np.ravel(frozen_step_time(point.shape, point.cluster, plan, point.profile,
                                                                spec))]

    on = steps(True)
    assert on == pytest.approx(steps(False), rel=1e-12)
    assert on == pytest.approx(steps(True, grid=False) * 2, rel=1e-12)
