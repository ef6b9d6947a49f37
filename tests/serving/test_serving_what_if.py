"""A hardware architect's what-ifs on LLM serving iterations (hypothesis): the physically right direction and size.

One accelerator figure changes at a time, as a what-if file does (`extends: h200` plus the field; the name is kept,
so the measured kernel fits still apply), and the same deployment's prefill and decode iterations are priced on both
(`serving.llm_iteration`). Decode at a small batch reads every weight once per step (memory-bound); a long prefill
multiplies them by thousands of tokens (compute-bound). So more HBM bandwidth helps the first more than the second,
more FLOP/s the second more than the first, and neither ever makes an iteration slower.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time, prefill_time

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TOLERANCE = 1e-9
LONG_PROMPT = 8192  # tokens of one prefill: compute-bound on every model here


@st.composite
def deployments(draw):
    """(model, system, deployment) of a valid single-replica deployment."""
    model, tps = draw(st.sampled_from([("llama3-8b", (1, 2)), ("llama3-70b", (4, 8)), ("mixtral-8x7b", (2, 8)),
                                       ("qwen3-32b", (2, 4))]))
    system = draw(st.sampled_from(["hgx-h200", "dgx-h100-superpod"]))
    dtype = draw(st.sampled_from(["bf16", "fp8"]))
    stack = draw(st.sampled_from(["trtllm-0.x", "vllm-0.x", "sglang-0.x"]))
    dep = Deployment(tp=draw(st.sampled_from(tps)), dtype=dtype, kv_dtype=dtype, max_batch=256, token_budget=8192,
                     engine=stack.split("-")[0], stack=stack)
    return model, system, dep


def _times(model: str, cluster: Cluster, dep: Deployment, accelerator=None) -> tuple[float, float, float]:
    """(decode step at batch 1, decode step at batch 64, one 8,192-token prefill), seconds."""
    cost = build_iteration_cost(load_model(model), accelerator or cluster.accelerator, cluster.fabric, dep)
    return (float(decode_time(cost, 1, 1024)), float(decode_time(cost, 64, 1024)),
            float(prefill_time(cost, 1, LONG_PROMPT)))


@SETTINGS
@given(deployments(), st.floats(1.2, 3.0))
def test_more_hbm_bandwidth_never_slows_an_iteration_and_helps_decode_more_than_prefill(drawn, factor) -> None:
    model, system, dep = drawn
    cluster = Cluster.resolve(system)
    acc = cluster.accelerator
    faster = acc.model_copy(update={"memory_bandwidth_bytes_per_s": acc.memory_bandwidth_bytes_per_s * factor})
    before, after = _times(model, cluster, dep), _times(model, cluster, dep, faster)
    for old, new in zip(before, after, strict=True):
        assert old / factor * (1 - TOLERANCE) <= new <= old * (1 + TOLERANCE)  # never slower, at most x factor
    decode_gain, prefill_gain = before[0] / after[0], before[2] / after[2]
    assert decode_gain > 1.0  # a batch-1 decode step reads every local weight from HBM
    if dep.tp <= 2:  # weights of 4 GB and more per GPU: the step is their read (at TP 8 launches and all-reduces
        assert decode_gain > prefill_gain  # of a few microseconds each take most of it: Mixtral TP8 5.9 %, 2x HBM)


@SETTINGS
@given(deployments(), st.floats(1.2, 3.0))
def test_more_flops_never_slow_an_iteration_and_help_prefill_more_than_decode(drawn, factor) -> None:
    model, system, dep = drawn
    cluster = Cluster.resolve(system)
    acc = cluster.accelerator
    faster = acc.model_copy(update={"peak_flops_per_s": {d: p * factor for d, p in acc.peak_flops_per_s.items()}})
    before, after = _times(model, cluster, dep), _times(model, cluster, dep, faster)
    for old, new in zip(before, after, strict=True):
        assert old / factor * (1 - TOLERANCE) <= new <= old * (1 + TOLERANCE)
    decode_gain, prefill_gain = before[0] / after[0], before[2] / after[2]
    assert prefill_gain > 1.0 and prefill_gain > decode_gain


@SETTINGS
@given(deployments(), st.floats(1.2, 3.0))
def test_more_nvlink_bandwidth_never_slows_an_iteration(drawn, factor) -> None:
    model, system, dep = drawn
    base = Cluster.resolve(system)
    before, after = _times(model, base, dep), _times(model, base.scaled(scale_up=factor), dep)
    for old, new in zip(before, after, strict=True):
        assert new <= old * (1 + TOLERANCE)


@SETTINGS
@given(deployments(), st.floats(1.2, 3.0))
def test_more_hbm_capacity_leaves_iteration_times_alone(drawn, factor) -> None:
    """Capacity sets how many sequences fit (the KV cache), not how fast one step runs."""
    model, system, dep = drawn
    cluster = Cluster.resolve(system)
    larger = cluster.accelerator.model_copy(update={"memory_bytes": cluster.accelerator.memory_bytes * factor})
    assert _times(model, cluster, dep, larger) == _times(model, cluster, dep)
