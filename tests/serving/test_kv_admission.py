"""KV admission as a stack property (issue 12): reserve_full (TensorRT-LLM GUARANTEED_NO_EVICT) vs on_demand with
recompute preemption (vLLM, SGLang): hand-counted blocks, preemptions and iterations, and the closed-form decode
jump equal to stepping every iteration when preemptions happen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))


def two_requests(blocks: int, admission: str, jump: bool = True):
    """Two 16-token prompts at t = 0, 65 output tokens each (64 decode steps), 16-token blocks."""
    n = 2
    return simulate_engine(COST, np.zeros(n), np.full(n, 16), np.zeros(n, dtype=np.int64), np.full(n, 64), 64,
                           2048, blocks, 16, jump=jump, kv_admission=admission)


@pytest.mark.parametrize("jump", [True, False], ids=["jump", "stepped"])
def test_on_demand_admits_both_and_preempts_the_newest_once(jump: bool) -> None:
    # reserve_full: each request reserves ceil((16 + 64 + 1) / 16) = 6 blocks, 12 > 9: one after the other,
    # 2 x (1 prefill + 64 decode) = 130 iterations
    full = two_requests(9, "reserve_full", jump)
    assert full.iterations == 130 and full.preemptions == 0
    assert full.first_token_s[1] == pytest.approx(full.finish_s[0], rel=0.05)  # waited for the first
    # on_demand: 1 block each at admission, one prefill iteration for both; each sequence takes a block at decode
    # iterations 1, 17, 33, 49 (2, 4, 6, 8 held); at 49 the 9th and 10th do not fit: request 1 (newest) is
    # preempted holding 4 blocks (64 tokens), requeued to recompute 64 + 1 tokens and decode 15 more after
    # request 0 ends (it needs 5 blocks, 4 are free until then): 1 + 64 + 1 + 15 = 81 iterations
    demand = two_requests(9, "on_demand", jump)
    assert (demand.iterations, demand.preemptions, demand.recomputed_tokens) == (81, 1, 65)
    assert demand.first_token_s[0] == demand.first_token_s[1]  # both prefilled together; TTFT kept
    assert demand.finish_s[1] > demand.finish_s[0]
    assert demand.finish_s[1] < full.finish_s[1]  # the cache is shared instead of held idle
    # 10 blocks: 2 x ceil(80 / 16) = 10 at the end, nothing preempted, both decode together
    roomy = two_requests(10, "on_demand", jump)
    assert (roomy.iterations, roomy.preemptions) == (65, 0)
    assert roomy.finish_s[0] == roomy.finish_s[1]


CASES = {  # name: (requests/s or None for all at t = 0, KV blocks, clients, scheduler)
    "open loop, fcfs": (40.0, 3_000, 0, "fcfs"),
    "offline, fcfs": (None, 2_500, 0, "fcfs"),
    "offline, prefill-first": (None, 2_500, 0, "prefill-first"),
    "closed loop, fcfs": (None, 2_000, 48, "fcfs"),
    "closed loop, prefill-first": (None, 2_000, 48, "prefill-first"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_closed_form_jump_equals_stepping_with_preemptions(case: str) -> None:
    rate, blocks, clients, scheduler = CASES[case]
    req = workload_requests(load_workload("chat"), 300, rate, seed=5)
    zeros = np.zeros_like(req.input_tokens)
    args = (COST, req.arrival_s.astype(float), req.input_tokens, zeros, req.output_tokens - 1, 64, 2048, blocks,
            16)
    jumped, stepped = (simulate_engine(*args, jump=j, clients=clients, scheduler=scheduler,
                                       kv_admission="on_demand") for j in (True, False))
    assert stepped.preemptions > 0  # the case is KV-bound
    assert (jumped.iterations, jumped.preemptions, jumped.recomputed_tokens) == (
        stepped.iterations, stepped.preemptions, stepped.recomputed_tokens)
    for got, want in ((jumped.first_token_s, stepped.first_token_s), (jumped.finish_s, stepped.finish_s)):
        assert np.isfinite(want).all()
        np.testing.assert_allclose(got, want, rtol=1e-9)
    # every token was decoded: recompute does not lose or add output
    assert np.all(jumped.finish_s >= jumped.first_token_s)


def test_on_demand_with_a_roomy_cache_equals_reserve_full() -> None:
    req = workload_requests(load_workload("chat"), 200, 20.0, seed=1)
    zeros = np.zeros_like(req.input_tokens)
    args = (COST, req.arrival_s.astype(float), req.input_tokens, zeros, req.output_tokens - 1, 64, 2048, 10**6, 16)
    a, b = (simulate_engine(*args, kv_admission=k) for k in ("reserve_full", "on_demand"))
    assert b.preemptions == 0 and a.iterations == b.iterations
    assert np.array_equal(a.first_token_s, b.first_token_s) and np.array_equal(a.finish_s, b.finish_s)


def test_stacks_state_their_kv_admission(tmp_path: Path) -> None:
    assert (load_engine("trtllm-0.x").kv_admission, load_engine("trtllm-0.x").preemption) == ("reserve_full", "none")
    for name in ("vllm-0.x", "sglang-0.x"):
        assert (load_engine(name).kv_admission, load_engine(name).preemption) == ("on_demand", "recompute")
    text = (Path(__file__).parents[2] / "src/infraplan/catalog/stacks/vllm-0.x.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("preemption: recompute", "preemption: none"))
    with pytest.raises(InputError, match="on_demand needs preemption recompute"):
        load_engine(str(bad))
    with pytest.raises(ValueError, match="kv_admission"):
        simulate_engine(COST, np.zeros(1), np.array([16]), np.zeros(1, dtype=np.int64), np.array([1]), 8, 2048,
                        100, 16, kv_admission="swap")
