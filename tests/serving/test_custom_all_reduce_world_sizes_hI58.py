"""vLLM's and SGLang's custom all-reduce runs only at TP 2, 4, 6, 8: NCCL prices their TP all-reduce elsewhere (hI58).

vllm 0.12.0 distributed/device_communicators/custom_all_reduce.py:52 `_SUPPORTED_WORLD_SIZES = [2, 4, 6, 8]`, :105-113
(another size: disabled, NCCL runs); SGLang's copy the same (0.5.6.post2 / 0.5.8.post1 :45, :97-105; 0.5.9 :53).
The stacks carry it (`custom_all_reduce_world_sizes`, an engine fact); TensorRT-LLM's lists none (any size in the
domain, RECALLED). Before, every stack with `custom_all_reduce` priced the one-shot kernel at any in-domain size: a
Llama 3 70B decode token's 16 KiB at TP 16 on GB200 NVL72 at 3.34 µs where NCCL takes 24.0 µs.
By hand: the difference of a one-token decode step, ON - OFF = 80 layers x 2 all-reduces x (NCCL - custom).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.network import collective_algorithms
from infraplan.network.collective_algorithms import custom_all_reduce_time
from infraplan.network.collectives import Fabric, collective_time
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

GB200 = load_accelerator("gb200")
FABRIC = Fabric.from_system(load_system("gb200-nvl72"), GB200)
TOKEN = 8192 * 2.0  # Llama 3 70B's hidden state in bf16: the decode all-reduce of one token


def _shape():  # type: ignore[no-untyped-def]
    config, _ = read_entry("models", "llama3-70b")
    return shape_from_hf_config(config, "llama3-70b")


def _one_token_s(stack: str, engine: str, tp: int) -> float:
    dep = Deployment(tp=tp, engine=engine, stack=stack, max_batch=8, token_budget=64)
    return float(build_iteration_cost(_shape(), GB200, FABRIC, dep).body_s[1])


def test_the_engines_world_sizes() -> None:
    for stack in ("vllm-0.x", "sglang-0.x"):
        engine = load_engine(stack)
        assert engine.custom_all_reduce_world_sizes == (2, 4, 6, 8)
        assert [engine.custom_all_reduce_at(n) for n in (2, 3, 4, 6, 8, 16, 72)] == [
            True, False, True, True, True, False, False]
    assert all(load_engine("trtllm-0.x").custom_all_reduce_at(n) for n in (2, 3, 16, 72))


@pytest.mark.parametrize("stack,engine", [("sglang-0.x", "sglang"), ("vllm-0.x", "vllm")])
def test_tp16_on_nvl72_pays_nccl(monkeypatch: pytest.MonkeyPatch, stack: str, engine: str) -> None:
    nccl = float(collective_time(FABRIC, "all_reduce", TOKEN, 16, 1))
    custom = float(custom_all_reduce_time(FABRIC, TOKEN, 16))
    assert nccl > 5.0 * custom  # 24.0 vs 3.34 µs
    on = _one_token_s(stack, engine, 16)
    monkeypatch.setattr(collective_algorithms, "CUSTOM_ALL_REDUCE_WORLD_SIZES", False)  # any size, as before
    # hI59: TP 16 also spans four 4-GPU hosts, which vLLM / SGLang refuse too: off with it, as before both rules
    monkeypatch.setattr(collective_algorithms, "CUSTOM_ALL_REDUCE_ONE_HOST", False)
    off = _one_token_s(stack, engine, 16)
    assert on - off == pytest.approx(80 * 2 * (nccl - custom), rel=1e-9)


def test_supported_sizes_and_tensorrt_llm_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    on = [_one_token_s("sglang-0.x", "sglang", 8), _one_token_s("trtllm-0.x", "trtllm", 16)]
    monkeypatch.setattr(collective_algorithms, "CUSTOM_ALL_REDUCE_WORLD_SIZES", False)
    assert on == [_one_token_s("sglang-0.x", "sglang", 8), _one_token_s("trtllm-0.x", "trtllm", 16)]
