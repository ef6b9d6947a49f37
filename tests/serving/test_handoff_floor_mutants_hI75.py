"""Mutation wave hI75 on `serving.handoff_floor` (hK74): a same-domain hand-off rides the scale-up links only where
the stack's KV connector takes them (`kv_handoff.scale_up_handoff`: vLLM's and TensorRT-LLM's UCX connectors use
cuda_ipc inside a node; SGLang's Mooncake transfer engine drives the NICs even on one node).

On H100 (8-GPU NVLink domain) a TP4 prefill / decode pair fits one domain: under vLLM the floor's transfer drops when
NVLink gets faster (hM23's test); under SGLang it is the NIC path's whatever NVLink does, as a TP8 pair's is.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import candidate_for
from infraplan.serving.handoff_floor import handoff_floor_s
from infraplan.serving.kv_default import default_kv_dtype
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.stack_placement import serving_stack_for

PROMPTS = np.array([512, 2048, 8000])
OUTPUTS = np.array([200, 200, 200])


def _floor(stack: str, scale_up_factor: float) -> np.ndarray:
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("h100-sxm", purpose="LLM serving")
    engine = serving_stack_for(stack, cluster.accelerator)[0]
    dep = Deployment(tp=4, pp=1, dtype="fp8", kv_dtype=default_kv_dtype(shape, "fp8")[0], max_batch=64,
                     token_budget=engine.token_budget, engine=engine.engine, stack=engine.ref)
    cost = candidate_for(shape, cluster.accelerator, cluster.fabric, dep).cost
    fabric = replace(cluster.fabric, scale_up_bytes_per_s=cluster.fabric.scale_up_bytes_per_s * scale_up_factor)
    assert cluster.fabric.scale_up_domain == 8 and dep.engine == stack.split("-")[0]
    return handoff_floor_s(shape, fabric, dep, cost, PROMPTS, OUTPUTS)


def test_sglangs_pair_in_one_domain_still_crosses_the_nics() -> None:
    assert np.array_equal(_floor("sglang-0.x", 10.0), _floor("sglang-0.x", 1.0))


def test_vllms_and_trtllms_pair_in_one_domain_rides_nvlink() -> None:
    for stack in ("vllm-0.x", "trtllm-0.x"):
        assert np.all(_floor(stack, 10.0) < _floor(stack, 1.0))
