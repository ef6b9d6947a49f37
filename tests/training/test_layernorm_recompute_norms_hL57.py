"""Which norms the `layernorm` recompute module re-runs is the stack's (`Stack.layernorm_recompute_norms`, hL57).

hA57 priced MLA's q / kv latent RMSNorms and made `layernorm` recompute re-run them on every stack. Megatron-Core
0.16.1 re-runs only input_layernorm and pre_mlp_layernorm (transformer_config.py:417, read in /tmp/keep/hG_pkgs/mc;
the latent norms sit inside the up projections' TE LayerNormLinear, gpt_layer_specs.py:233-266): a Megatron stack
with `layernorm` on DeepSeek-V3 re-ran 8,192 / SP B a token and layer too many (+14 % on the two norms' 57,344 / SP).
DeepSeek's own stack recomputes all RMSNorms (DeepSeek-V3 report sec. 3.2.3) and keeps them: deepseek-v3.yaml
sets `all`. Fails before: the field does not exist, and the Megatron stack re-ran the latents.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.recompute_modules import rerun_elementwise_bytes_per_token

TP, H, LATENTS = 8.0, 7168.0, 1536.0 + 512.0  # DeepSeek-V3: hidden, q_lora_rank + kv_lora_rank


def _rerun(stack_name: str, **update: object) -> float:
    stack = load_stack(stack_name).model_copy(update={"recompute_modules": ("layernorm",), **update})
    return float(np.asarray(rerun_elementwise_bytes_per_token(load_model("deepseek-v3"), np.asarray(TP),
                                                              np.asarray(1), stack)))


def test_megatron_reruns_its_two_norms_and_deepseek_every_norm() -> None:
    assert load_stack("nemo-26.04").layernorm_recompute_norms == "block"
    assert load_stack("megatron-core-0.8").layernorm_recompute_norms == "block"
    assert load_stack("deepseek-v3").layernorm_recompute_norms == "all"
    assert _rerun("nemo-26.04") == pytest.approx(2.0 * 2.0 * 2.0 * H / TP)  # read + write, bf16, two h-wide norms
    assert _rerun("deepseek-v3") == pytest.approx(2.0 * 2.0 * (2.0 * H + LATENTS) / TP)
    assert _rerun("nemo-26.04", layernorm_recompute_norms="all") == pytest.approx(_rerun("deepseek-v3"))


def test_a_dense_model_reruns_the_same_norms_either_way() -> None:
    llama = load_model("llama3-70b")
    bytes_ = [float(np.asarray(rerun_elementwise_bytes_per_token(
        llama, np.asarray(TP), np.asarray(1), load_stack("nemo-26.04").model_copy(
            update={"recompute_modules": ("layernorm",), "layernorm_recompute_norms": norms}))))
        for norms in ("block", "all")]
    assert bytes_[0] == bytes_[1] == pytest.approx(2.0 * 2.0 * 2.0 * 8192.0 / TP)


def test_the_step_prices_the_latent_norms_only_where_the_stack_reruns_them() -> None:
    base = load_stack("nemo-26.04").model_copy(update={"recompute_modules": ("core_attn", "layernorm")})
    times = [estimate_training("deepseek-v3", "h100-sxm", 1024, tp=8, pp=1, ep=32, seq_len=4096,
                               global_batch=1024, recompute="selective", dtype="bf16",
                               stack=base.model_copy(update={"layernorm_recompute_norms": norms})).step_time_s
             for norms in ("block", "all")]
    assert times[0] < times[1]  # 5.9813 s < 5.9819 s (the latent norms re-run: +0.6 ms)
