"""Per-GPU parameters, KV bytes and activation widths: one count that training and serving share."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.ops import params
from infraplan.serving import kv_cache
from infraplan.training import PlanArrays
from infraplan.training import memory as training_memory

MODELS = ["llama3-8b", "llama3-70b", "gpt3-175b", "mixtral-8x7b", "opt-175b"]


def _plan(tp: int, pp: int) -> PlanArrays:
    return PlanArrays.build(tp=tp, pp=pp, dp=1, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=8, seq_len=4096,
                            recompute=0, zero=0, dtype=0)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("tp", [1, 2, 8, 16])
def test_training_and_serving_read_the_same_local_parameters(name: str, tp: int) -> None:
    shape = load_model(name)
    train = training_memory.local_layer_params(shape, _plan(tp, 1))[0]
    assert train == kv_cache.local_layer_params(shape, tp)
    for pp in (1, 4):
        held = training_memory.local_params(shape, _plan(tp, pp))[0]
        assert kv_cache.weight_bytes_per_gpu(shape, tp, pp, "bf16") == pytest.approx(2.0 * held, rel=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_one_gpu_holds_the_whole_model(name: str) -> None:
    shape = load_model(name)
    assert params.local_params(shape, 1, 1) == pytest.approx(shape.total_params(), rel=1e-12)
    assert params.local_layer_params(shape, 1) == shape.params_per_layer()


def test_kv_heads_below_tp_are_replicated() -> None:
    shape = load_model("llama3-70b")  # 8 KV heads, head_dim 128
    assert params.kv_bytes_per_token_layer(shape, 2, 2.0) == 2 * 4 * 128 * 2.0
    assert params.kv_bytes_per_token_layer(shape, 16, 1.0) == params.kv_bytes_per_token_layer(shape, 8, 1.0)
    # attention weights stop shrinking for K and V beyond TP 8
    att = params.attention_params_local(shape, np.array([8, 16]))
    q_and_out = 2 * shape.hidden_size * 64 * 128
    assert att[0] - att[1] == pytest.approx(q_and_out / 16, rel=1e-12)


def test_experts_split_over_ep_and_tp_router_replicated() -> None:
    shape = load_model("mixtral-8x7b")
    full = params.local_layer_params(shape, 1, 1)
    split = params.local_layer_params(shape, 2, 4)
    router = shape.hidden_size * 8
    experts = 8 * shape.expert_params()
    assert full - split == pytest.approx(params.attention_params_local(shape, 1) / 2 + experts * (1 - 1 / 8))
    assert params.router_params(shape) == router
    assert params.local_expert_params(shape, 2, 1, 4) == shape.num_layers * experts / 8
    assert params.local_expert_params(load_model("llama3-8b"), 2, 1, 1) == 0.0


def test_stage_layers_is_the_heaviest_stage() -> None:
    assert list(params.stage_layers(126, np.array([1, 16, 7]))) == [126, 8, 18]


def test_activations_match_korthikanti_for_a_gpt_block() -> None:
    """34 s b h / t with SP (GPT block: q = kv = h, f = 4h, dropout masks), 10 + 24 / t without."""
    shape = load_model("gpt3-175b")
    h, t = shape.hidden_size, 8
    with_sp = params.activation_bytes_per_token_layer(shape, t, 1, 2048, False)
    without = params.activation_bytes_per_token_layer(shape, t, 0, 2048, False)
    assert with_sp == pytest.approx(34 * h / t, rel=1e-12)
    assert without == pytest.approx(10 * h + 24 * h / t, rel=1e-12)
    unfused = params.activation_bytes_per_token_layer(shape, t, 1, 2048, True)
    assert unfused - with_sp == pytest.approx(5 * shape.num_heads * 2048 / t, rel=1e-12)


def test_one_runtime_reserve_for_training_and_serving() -> None:
    assert training_memory.RUNTIME_OVERHEAD_BYTES == kv_cache.RUNTIME_RESERVE_BYTES == params.RUNTIME_RESERVE_BYTES
