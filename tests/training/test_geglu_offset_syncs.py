"""GPT-OSS's clamped quick-GeGLU under Megatron-Core: it copies its linear offset to the device on every call, a
host-device sync per MoE layer forward and per activation re-run in backward (`ops.gpt_oss_experts.geglu_offset_syncs`,
`training.host_time.add_dropless_moe_terms` `moe_sync_waits`, `training.step_assembly`); `moe_act` recompute re-runs
the clamp and copies the re-run output into the discarded tensor (`training.recompute_modules`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import infraplan.ops.gpt_oss_experts as experts
from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.ops.gpt_oss_experts import STRIDED_PASS_SHARE, geglu_offset_syncs
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.recompute_modules import rerun_elementwise_bytes_per_token

D = 26e-6  # the eager dispatch of the B200 / H100 hosts (`Node.host_kernel_dispatch_s`)
EAGER = load_stack("nemo-26.04").model_copy(update={"cuda_graphs": False})
MOE_ACT = EAGER.model_copy(update={"recompute_modules": ("layernorm", "moe_act")})


def test_only_the_clamped_quick_geglu_syncs_and_backward_only_where_it_reruns() -> None:
    gpt_oss = load_model("gpt-oss-120b")
    assert geglu_offset_syncs(gpt_oss, True) == (1.0, 1.0)
    assert geglu_offset_syncs(gpt_oss, False) == (1.0, 0.0)
    forward, backward = geglu_offset_syncs(gpt_oss, np.array([True, False]))
    assert forward == 1.0 and np.array_equal(backward, [1.0, 0.0])
    for other in ("deepseek-v3", "llama3-70b"):  # SwiGLU experts / a dense model: no device scalar per call
        assert geglu_offset_syncs(load_model(other), True) == (0.0, 0.0)


def _step(stack: object, syncs: float, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> float:
    monkeypatch.setattr(experts, "GEGLU_OFFSET_SYNCS", syncs)
    clear_one_plan_memo()
    args: dict[str, Any] = {"tp": 1, "pp": 1, "ep": 8, "seq_len": 4096, "global_batch": 1280, "micro_batch": 4,
                            "dtype": "bf16"} | kw
    step = estimate_training("gpt-oss-120b", "dgx-b200", 64, stack=stack, **args).step_time_s  # type: ignore[arg-type]
    clear_one_plan_memo()
    return step


@pytest.mark.parametrize(("stack", "recompute", "per_layer"), [(EAGER, "none", 1.0), (MOE_ACT, "selective", 2.0),
                                                               (EAGER, "full", 2.0)])
def test_each_sync_costs_the_first_dispatch_after_it(stack: object, recompute: str, per_layer: float,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    layers, micro_batches = 36, 5  # H022's plan: GBS 1280 / (MBS 4 x DP 64)
    delta = (_step(stack, 1.0, monkeypatch, recompute=recompute)
             - _step(stack, 0.0, monkeypatch, recompute=recompute))
    assert delta == pytest.approx(layers * micro_batches * per_layer * D, rel=1e-6)


def test_moe_act_rerun_adds_the_restore_copy_and_gpt_oss_clamp() -> None:
    no_rerun = EAGER.model_copy(update={"recompute_modules": ("layernorm",)})
    # clamp: 8 B per fc1-output element, at the strided loop's measured share of the streaming rate (hO55)
    for model, clamp in (("gpt-oss-120b", 8.0 * 2.0 / STRIDED_PASS_SHARE), ("deepseek-v3", 0.0)):
        shape = load_model(model)
        f, k = shape.ffn_hidden_size, shape.experts_per_token
        added = (rerun_elementwise_bytes_per_token(shape, np.array([1.0]), np.array([0]), MOE_ACT)
                 - rerun_elementwise_bytes_per_token(shape, np.array([1.0]), np.array([0]), no_rerun))
        # SwiGLU reads 2 f and writes f (2 B each), the restore copy reads and writes f, then the clamp's bytes
        assert added[0] == pytest.approx(k * f * (6.0 + 4.0 + clamp))
