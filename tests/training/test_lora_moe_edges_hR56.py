"""hF56's LoRA on MoE at two edges its tests left open (hR, session 56, hand mutants that passed them):
* expert TP below TP (TP 2, expert TP 1): the routed experts' one adapter is split over the expert-TP group, not
  TP (`frozen_base._site`), so the model's adapters are the same 32 x R x (in + out) count at any expert TP; a
  mutant reading `row.tp` there counted fc1 / fc2's adapters with a TP 2 split that is not there.
* the adapters' own bf16 weights on each GPU (`frozen_memory`): 2 B per local adapter parameter on top of the
  frozen base's weights, the gradients 4 B each (a mutant dropping the weights term passed every test)."""

from __future__ import annotations

import pytest

from infraplan.training.estimate import estimate_training

R = 16
# Mixtral 8x7B (config.json): h 4096, 32 query heads and 8 KV heads of 128, FFN 14336 (SwiGLU), 32 layers
QKV, OUT, FC1, FC2 = 4096 + 6144, 4096 + 4096, 4096 + 2 * 14336, 14336 + 4096
RUN = dict(seq_len=4096, global_batch=64, micro_batch=1, dtype="bf16", recompute="none", zero=1, tp=2, pp=2, ep=8)


@pytest.mark.parametrize("etp", [1, 2])
def test_expert_adapters_at_expert_tp_below_tp(etp: int) -> None:
    lora = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 32, etp=etp, lora_rank=R, lora_targets="all",
                             **RUN)  # type: ignore[arg-type]
    full = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 32, etp=etp, **RUN)  # type: ignore[arg-type]
    assert lora.trainable_params_count == 32 * R * (QKV + OUT + FC1 + FC2)
    grads = lora.memory_breakdown_bytes.gradients  # 4 B per adapter parameter this GPU holds (16 of 32 layers)
    assert lora.memory_breakdown_bytes.weights - full.memory_breakdown_bytes.weights == pytest.approx(grads / 2,
                                                                                                       rel=1e-12)
    # at expert TP 1 the expert adapters are whole on each GPU: more local adapter bytes than at expert TP 2
    assert grads > 4.0 * lora.trainable_params_count / 4 if etp == 1 else grads == pytest.approx(
        4.0 * lora.trainable_params_count / 4, rel=1e-12)
