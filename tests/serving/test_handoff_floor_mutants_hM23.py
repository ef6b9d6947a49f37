"""Mutation wave hM23 (session 45) on `serving.handoff_floor`: the path rule at the scale-up domain's edge and which
outputs hand off.

A prefill replica and a decode replica of `dep` may share one scale-up domain only when both fit in it, 2 x GPUs <=
domain (the whole run's own test: `serving_sim` moves the KV in-domain when the pair's GPUs <= the domain). On H100
(8-GPU NVLink domain, catalog dgx-h100) a TP4 pair fits (8), a TP8 pair does not (16). So a TP8 floor cannot depend
on the NVLink bandwidth (its KV crosses the NICs), and a TP4 floor must drop when NVLink gets faster (it is the
least hand-off, over the faster path). A request whose output is 2 tokens still gets its first token from the decode
worker (one decode step after the prefill's token, `Deployment.decode_steps`: output - 1); only a 1-token output
has no hand-off.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import candidate_for
from infraplan.serving.handoff_floor import handoff_floor_s
from infraplan.serving.kv_default import default_kv_dtype
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.stack_placement import serving_stack_for

PROMPTS = np.array([512, 2048, 8000])
OUTPUTS = np.array([200, 200, 200])


def _floor(tp: int, scale_up_factor: float, prompts: np.ndarray = PROMPTS,
           outputs: np.ndarray = OUTPUTS) -> np.ndarray:
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("h100-sxm", purpose="LLM serving")
    engine = serving_stack_for(None, cluster.accelerator)[0]
    dep = Deployment(tp=tp, pp=1, dtype="fp8", kv_dtype=default_kv_dtype(shape, "fp8")[0], max_batch=64,
                     token_budget=engine.token_budget, engine=engine.engine, stack=engine.ref)
    cost = candidate_for(shape, cluster.accelerator, cluster.fabric, dep).cost  # one decode step, either fabric
    fabric = replace(cluster.fabric, scale_up_bytes_per_s=cluster.fabric.scale_up_bytes_per_s * scale_up_factor)
    assert cluster.fabric.scale_up_domain == 8
    return handoff_floor_s(shape, fabric, dep, cost, prompts, outputs)


def test_a_pair_too_big_for_one_domain_does_not_ride_nvlink() -> None:
    """TP8: 2 x 8 = 16 GPUs > 8, so a faster NVLink leaves its floor as it is."""
    assert np.array_equal(_floor(8, 10.0), _floor(8, 1.0))


def test_a_pair_that_fits_one_domain_takes_the_faster_path() -> None:
    """TP4: 2 x 4 = 8 GPUs fit the domain (the edge), so the floor's transfer is NVLink's and drops with its speed,
    more for a longer prompt (more KV to move)."""
    slow, fast = _floor(4, 1.0), _floor(4, 10.0)
    assert np.all(fast < slow)
    assert np.all(np.diff(slow - fast) > 0)


def test_a_two_token_output_hands_off_and_a_one_token_output_does_not() -> None:
    floor = _floor(4, 1.0, np.array([2048, 2048, 2048]), np.array([1, 2, 300]))
    assert floor[0] == 0.0 and floor[1] > 0.0
    assert floor[1] == pytest.approx(floor[2], rel=1e-12)  # the least hand-off does not grow with the output


def test_each_pickup_iteration_reads_the_prompts_keys() -> None:
    """With links a billion times faster the transfer is only the links' latency (the same for every prompt), so
    what a longer prompt adds is the lone sequence's decode step reading its longer KV cache: Llama 3 8B fp8 KV is
    32 layers x 8 heads x 128 x 2 (K, V) x 1 B = 64 KiB a token, 7,488 tokens more over TP4 = 123 MB a GPU, at
    H100's 3.35 TB/s at least ~20 us (half the peak rate, for the efficiency the model may take off)."""
    fast = _floor(4, 1e9)
    extra_s = (8000 - 512) * 32 * 8 * 128 * 2 / 4 / 3.35e12
    assert fast[2] - fast[0] > 0.5 * extra_s
