"""serve-plan's wide-EP degrees are sized by the KV rule every candidate and `serve` use (hY53): a sliding-window
model's windows held for the sequences its pool holds (`kv_pool_window.window_sequences`, hW52), not every slot
of the batch cap (`capacity_candidate.replica_kv`, called by `capacity_space.wide_ep_degrees` and `Candidate`).

Before (HEAD c56ab54), `wide_ep_degrees` called `kv_capacity` without the search's shortest sequence, so the
windows of all 256 slots were held back: GPT-OSS 120B (18 of 36 layers slide over 128 tokens) in bf16 on H100 at
attention DP 4 with a 106,496-token budget (a stack YAML's `token_budget`; ~0.9 GiB left for the KV cache a GPU,
the 256 slots' windows 1.1 GiB) was never offered, though `serve` runs that layout (4 H100, 90,496 KV tokens a
replica) and the search's own candidate of it fits. Reachable on catalog parts only at budgets of ~105k tokens
and up (the windows of 256 slots are 1.1 GiB in bf16; every shipped part's free memory jumps by tens of GiB
between EP degrees at the stacks' own budgets).
"""

from __future__ import annotations

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import Candidate, replica_kv
from infraplan.serving.capacity_layouts import level_layouts
from infraplan.serving.capacity_space import wide_ep_degrees
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.serving_sim import fit_check

BUDGET = 106_496  # tokens: above ~104.7k the cap's windows outgrow the KV memory left at attention DP 4
STACK = "trtllm-0.x"


def _setup():  # type: ignore[no-untyped-def]
    cluster = Cluster.resolve("dgx-h100-superpod")
    return load_model("gpt-oss-120b"), cluster.accelerator, cluster.fabric


def _sample(n: int = 200):  # type: ignore[no-untyped-def]
    return build_requests(None, None, 1000, 1000, n, None, 0)


def test_gpt_oss_attention_dp_4_is_offered_where_its_candidate_fits() -> None:
    shape, acc, fabric = _setup()
    sample = _sample()
    shortest = int((sample.input_tokens + sample.output_tokens).min())
    assert shortest == 2000
    # the cap's windows (today's rule without the sample): 4 refused; by the candidates' rule: offered
    assert wide_ep_degrees(shape, acc, 8, "bf16", "bf16", BUDGET, 256, STACK) == [8]
    assert wide_ep_degrees(shape, acc, 8, "bf16", "bf16", BUDGET, 256, STACK, shortest) == [4, 8]
    # ... and runnable: the search's own candidate of it has a KV cache that holds the requests
    dep = Deployment(tp=1, ep=4, attention_dp=4, dtype="bf16", kv_dtype="bf16", max_batch=256, token_budget=BUDGET,
                     engine="trtllm", stack=STACK)
    cand = Candidate(shape, acc, fabric, dep, sample)
    assert cand.cap.blocks > 0 and fit_check(shape, cand.cap, dep, sample, acc) is None
    assert cand.cap.window_sequences < 256  # windows held for the sequences that fit, not the cap's 256
    # the same rule: the degree check and the candidate read one capacity
    assert replica_kv(shape, acc, dep, shortest) == cand.cap


def test_the_layouts_enumerated_with_the_search_sample_include_it_and_its_moe_tp() -> None:
    shape, acc, _ = _setup()
    engine = load_engine(STACK)
    args = (shape, acc, 8, "bf16", "bf16", BUDGET, [64, 256], [4, 8], 1, engine.ref, engine.engine)
    before = level_layouts(*args)
    after = level_layouts(*args, _sample())
    new = [layout for layout in after if layout not in before]
    assert new == [(1, 4, 1, 256), (1, 4, 2, 256), (1, 4, 4, 256)]  # wide EP 4, then MoE TP 2 and 4 over it
    assert all(layout in after for layout in before)


def test_a_model_without_sliding_layers_is_offered_the_same_degrees() -> None:
    """DeepSeek-V3 (no sliding layers): the sample changes nothing (`window_sequences` returns the cap)."""
    acc = Cluster.resolve("hgx-h200").accelerator
    shape = load_model("deepseek-v3")
    engine = load_engine(STACK)
    for cap in (64, 256):
        assert wide_ep_degrees(shape, acc, 8, "fp8", "fp8", engine.token_budget, cap, STACK) == wide_ep_degrees(
            shape, acc, 8, "fp8", "fp8", engine.token_budget, cap, STACK, 2000) == [8]
