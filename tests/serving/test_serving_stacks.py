"""Serving stack profiles (`serve --stack`): the engine conventions come from the stack YAML, and a stack with
custom all-reduce runs the small TP all-reduces of decode one-shot / two-shot instead of through NCCL."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.collective_algorithms import CUSTOM_ALL_REDUCE_MAX_BYTES, custom_all_reduce_time
from infraplan.network.collectives import SCALE_UP_LATENCY_S, all_reduce_time
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time
from infraplan.serving.serving_api import estimate_serving

FABRIC = Cluster.resolve("dgx-h100-superpod").fabric


def test_custom_all_reduce_beats_nccl_on_small_messages_only_inside_the_domain():
    small, large = 256 * 2**10, 2 * CUSTOM_ALL_REDUCE_MAX_BYTES
    nccl_small = float(all_reduce_time(FABRIC, small, 8, 1, sized=True))
    custom_small = float(custom_all_reduce_time(FABRIC, small, 8, 1))
    # one barrier instead of 2 log2(8) protocol steps (measured on 8x H100: 10.2 vs 19.3 us, network.nvlink_all_reduce)
    assert custom_small < 0.6 * nccl_small
    # tiny message: the one-shot line, latency plus the n - 1 peer reads
    tiny = 1024.0
    assert float(custom_all_reduce_time(FABRIC, tiny, 8, 1)) == pytest.approx(
        SCALE_UP_LATENCY_S + 7 * tiny / FABRIC.scale_up_bytes_per_s)
    # above the IPC buffer, and across scale-up domains, NCCL runs it
    assert float(custom_all_reduce_time(FABRIC, large, 8, 1)) == pytest.approx(
        float(all_reduce_time(FABRIC, large, 8, 1, sized=True)))
    assert float(custom_all_reduce_time(FABRIC, small, 16, 1)) == pytest.approx(
        float(all_reduce_time(FABRIC, small, 16, 1, sized=True)))
    assert float(custom_all_reduce_time(FABRIC, small, 1, 1)) == 0.0


def test_two_shot_takes_over_from_one_shot_as_the_message_grows(monkeypatch):
    # the alpha-beta lines alone (the measured curve bounds them from below: tests/network/test_nvlink_all_reduce.py)
    monkeypatch.setattr("infraplan.network.nvlink_all_reduce.MEASURED_NVLINK_ALL_REDUCE", False)
    sizes = np.array([4e3, 4e6])
    t = custom_all_reduce_time(FABRIC, sizes, 8, 1)
    one_shot = SCALE_UP_LATENCY_S + 7 * sizes / FABRIC.scale_up_bytes_per_s
    assert t[0] == pytest.approx(one_shot[0]) and t[1] < 0.5 * one_shot[1]


def _stack(tmp_path, custom: bool) -> str:
    path = tmp_path / f"trt-{custom}.yaml"
    path.write_text(f"display_name: t\nkind: serving\nstack_class: trtllm\nsource: test\ncuda_graphs: true\n"
                    f"custom_all_reduce: {str(custom).lower()}\nserving:\n  engine: trtllm\n"
                    "  kv_convention: free_after_weights\n  kv_memory_fraction: 0.9\n  offline_max_batch: 2048\n")
    return str(path)


def test_the_stacks_custom_all_reduce_shortens_tp8_decode(tmp_path):
    from infraplan.catalog import load_model

    shape, cluster = load_model("llama3-70b"), Cluster.resolve("dgx-h100-superpod")
    times = {}
    for custom in (True, False):
        for tp in (1, 8):
            dep = Deployment(tp=tp, dtype="fp8", kv_dtype="fp8", stack=_stack(tmp_path, custom))
            cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep)
            times[custom, tp] = float(decode_time(cost, 8, 2048))
    assert times[True, 1] == times[False, 1]  # no TP all-reduce at TP1
    saved = times[False, 8] - times[True, 8]
    assert saved > 0.05 * times[False, 8]  # 160 small all-reduces per step, each cheaper


def test_serve_states_its_stack_and_shipped_stacks_carry_their_engine():
    kw = {"offline": True, "input_len": 64, "output_len": 16, "requests": 20, "tp": 1}
    r = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, stack="sglang-0.5.6.post2", **kw)
    assert r.stack == "sglang-0.x" and r.deployment.engine == "sglang"
    assert estimate_serving("llama3-8b", "dgx-h100-superpod", 1, **kw).stack == "trtllm-0.x"
    for name in ("trtllm-0.x", "vllm-0.x", "sglang-0.x"):
        engine = load_engine(name)
        assert engine.custom_all_reduce and engine.cuda_graphs and engine.engine == name.split("-")[0]
