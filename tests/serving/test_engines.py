"""Each serving engine's KV-memory convention (TensorRT-LLM: of the memory left after weights; vLLM/SGLang: of
the total) and its offline batch default."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.errors import InputError
from infraplan.ops.params import RUNTIME_RESERVE_BYTES
from infraplan.serving import kv_pool_trtllm
from infraplan.serving.engines import ENGINES, load_engine
from infraplan.serving.kv_cache import kv_capacity
from infraplan.serving.serving_api import estimate_serving

H100 = load_accelerator("h100-sxm")


def _cap(engine: str, model: str = "llama3-8b", tp: int = 1, dtype: str = "bf16"):
    return kv_capacity(load_model(model), H100, tp, 1, dtype, dtype, 8192, 256, engine=engine)


def test_trtllm_fraction_is_of_the_memory_left_after_weights():
    c = _cap("trtllm")  # reserve and activations from NVIDIA's memory model (`serving.kv_pool_trtllm`)
    left = H100.memory_bytes - c.weights_bytes - c.workspace_bytes - c.reserve_bytes
    assert c.kv_cache_bytes == pytest.approx(0.9 * left)


def test_vllm_fraction_is_of_the_total():
    c = _cap("vllm")
    assert c.kv_cache_bytes == pytest.approx(0.9 * H100.memory_bytes - c.weights_bytes - c.workspace_bytes
                                             - RUNTIME_RESERVE_BYTES)
    assert c.usable_bytes == pytest.approx(0.9 * H100.memory_bytes)


def test_sglang_static_fraction_shrinks_with_tp_and_holds_weights_plus_kv():
    one, eight = _cap("sglang", tp=1), _cap("sglang", tp=8)  # SGLang 0.5.6+ rule on H100 (`serving.sglang_memory`)
    # of the memory free before the weights load: the total less the runtime reserve (model_runner.py :828-853)
    free = H100.memory_bytes - RUNTIME_RESERVE_BYTES
    assert one.kv_cache_bytes == pytest.approx(0.835 * free - one.weights_bytes)
    assert eight.kv_cache_bytes == pytest.approx(0.818 * free - eight.weights_bytes)


def test_the_conventions_differ_most_for_a_big_model(monkeypatch):
    # 70B fp8 on one 80 GB GPU: 0.9 of the total leaves almost nothing beside the weights, while TensorRT-LLM
    # gets 0.9 of the ~8 GiB left after them (the conventions compared at one reserve: the generic one)
    monkeypatch.setattr(kv_pool_trtllm, "NVIDIA_MEMORY_MODEL", False)
    vllm, trtllm = _cap("vllm", "llama3-70b", dtype="fp8"), _cap("trtllm", "llama3-70b", dtype="fp8")
    assert trtllm.kv_cache_bytes > 4 * vllm.kv_cache_bytes
    small = {name: _cap(name).kv_cache_bytes for name in ENGINES}
    assert small["trtllm"] > small["vllm"]  # 8B: 0.9 of (80 - 16) > 0.9 x 80 - 16


def test_offline_default_batch_follows_the_engine():
    kw = {"offline": True, "input_len": 64, "output_len": 16, "requests": 50}
    assert estimate_serving("llama3-8b", "dgx-h100-superpod", 1, **kw).deployment.max_batch == 2048
    vllm = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, stack="vllm-0.12.0", **kw)
    assert vllm.deployment.max_batch == 1024 and vllm.deployment.engine == "vllm" and vllm.stack == "vllm-0.x"
    online = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, rate=1.0, input_len=64, output_len=16,
                              requests=20)
    assert online.deployment.max_batch == 256


def test_unknown_stack_is_an_input_error():
    with pytest.raises(InputError, match="unknown serving stack"):
        load_engine("tgi")
    assert load_engine("sglang-0.5.9").name == "sglang-0.x" and load_engine("sglang-0.5.9").engine == "sglang"
    with pytest.raises(InputError, match="alias of --stack"):
        estimate_serving("llama3-8b", "dgx-h100-superpod", 1, offline=True, input_len=64, output_len=16,
                         stack="vllm-0.x", engine="trtllm")


def test_a_user_stack_yaml_sets_the_kv_rule(tmp_path):
    path = tmp_path / "my-vllm.yaml"
    path.write_text("display_name: mine\nkind: serving\nstack_class: vllm\nsource: test\ncuda_graphs: true\n"
                    "serving:\n  engine: vllm\n  kv_convention: of_total\n  kv_memory_fraction: 0.5\n"
                    "  offline_max_batch: 64\n")
    kw = {"offline": True, "input_len": 64, "output_len": 16, "requests": 50, "tp": 1}
    mine = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, stack=str(path), **kw)
    stock = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, stack="vllm-0.x", max_batch=64, **kw)
    assert mine.deployment.max_batch == 64 and mine.stack == "my-vllm"
    assert mine.deployment.kv_cache_bytes_per_gpu == pytest.approx(
        stock.deployment.kv_cache_bytes_per_gpu - 0.4 * H100.memory_bytes)
