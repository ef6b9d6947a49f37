"""`collective all-reduce`'s `serving_custom_time_s` follows the engines' one-host rule (hI59).

vLLM's / SGLang's custom all-reduce needs every rank on one host (vllm 0.12.0 distributed/device_communicators/
custom_all_reduce.py:90-96; the stacks' `custom_all_reduce_one_host`); TensorRT-LLM's does not. At 8 ranks on GB200
NVL72 (hosts of 4 GPUs) the field stays TensorRT-LLM's one-shot price and the basis names the stacks that run NCCL
there and why, so each stack's `serve` price is one of the command's two numbers; at 4 ranks (one host) every
shipped stack runs it.
"""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.ops.layer_records import Collective
from infraplan.serving.engines import load_engine
from infraplan.serving.layer_work import serving_collective_time

DECODE_BYTES = 8192 * 2.0  # one Llama 3 70B decode token's hidden state in bf16


def test_spanning_hosts_vllm_and_sglang_say_so() -> None:
    cluster = Cluster.resolve("gb200-nvl72").for_gpus(8)
    r = estimate_collective("all-reduce", cluster, 8, DECODE_BYTES)
    c = Collective("all_reduce", "tp", DECODE_BYTES, 8, 1, 1.0, True)
    host = cluster.fabric.host_accelerators
    served = {stack: float(serving_collective_time(cluster.fabric, c, load_engine(stack).custom_all_reduce_at(8, host)))
              for stack in ("trtllm-0.x", "vllm-0.x", "sglang-0.x")}
    assert r.serving_custom_time_s == pytest.approx(served["trtllm-0.x"], rel=1e-12)
    assert served["vllm-0.x"] == served["sglang-0.x"] == pytest.approx(r.priced_time_s, rel=1e-12)
    assert r.priced_time_s > 5.0 * r.serving_custom_time_s  # 18.0 vs 3.16 µs
    assert ("(trtllm-0.x only: sglang-0.x, vllm-0.x theirs with every rank on one host, 8 ranks span 2 of 4, "
            "NCCL's time above at 8)") in r.priced_basis
    one_host = estimate_collective("all-reduce", Cluster.resolve("gb200-nvl72").for_gpus(4), 4, DECODE_BYTES)
    assert "only:" not in one_host.priced_basis and one_host.serving_custom_time_s is not None
