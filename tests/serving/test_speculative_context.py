"""A speculative request's cache in the engine loops (`serving.speculative`, `CONTEXT_GROWTH`): each decode step
appends T = tokens_per_step tokens to the context it reads, a request still takes ceil((OSL - 1) / T) steps, and
its KV reservation holds its last verification's slots."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving import speculative
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.loop_stepping import request_tokens
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
MODEL = load_model("llama3-8b")
FABRIC = Fabric.from_system(SYSTEM, ACC)
PLAIN = Deployment(max_batch=64, token_budget=8192)
SPEC = replace(PLAIN, speculative_tokens=2, acceptance=0.8)  # T = (1 - 0.8^3) / 0.2 = 2.44


def _cost(dep: Deployment, growth: bool = True):  # type: ignore[no-untyped-def]
    saved = speculative.CONTEXT_GROWTH
    speculative.CONTEXT_GROWTH = growth
    try:
        return build_iteration_cost(MODEL, ACC, FABRIC, dep)
    finally:
        speculative.CONTEXT_GROWTH = saved


def _run(cost, dep, arrival, prompt, output, blocks=100_000, jump=True, **kw):  # type: ignore[no-untyped-def]
    arrival, prompt, output = (np.asarray(x) for x in (arrival, prompt, output))
    return simulate_engine(cost, arrival.astype(float), prompt, np.zeros_like(prompt), dep.decode_steps(output),
                           dep.max_batch, 2048, blocks, 16, jump=jump, **kw)


def test_the_cost_carries_the_growth_and_the_draft_slots() -> None:
    plain, spec = _cost(PLAIN), _cost(SPEC)
    assert (plain.decode_growth_tokens, plain.draft_slots) == (1.0, 0)
    assert spec.decode_growth_tokens == pytest.approx(2.44) and spec.draft_slots == 2
    off = _cost(SPEC, growth=False)
    assert (off.decode_growth_tokens, off.draft_slots) == (1.0, 0)


def test_each_step_reads_the_context_grown_by_the_tokens_a_step_yields() -> None:
    """One request, 512-token prompt, 50 output tokens: 49 / 2.44 -> 21 steps, step s reading 512 + 2.44 s cached
    tokens (one token a step would read 512 + s)."""
    cost = _cost(SPEC)
    t = SPEC.tokens_per_step
    steps = int(SPEC.decode_steps(np.array([50]))[0])
    assert steps == 21
    r = _run(cost, SPEC, [0.0], [512], [50])
    prefill = float(cost.time(512, 0, 0, 512 * 513 / 2, rows=1))
    want = prefill + sum(float(cost.time(0, 1, 512 + t * s, 0, rows=1)) for s in range(steps))
    assert r.first_token_s[0] == pytest.approx(prefill)
    assert r.finish_s[0] == pytest.approx(want, rel=1e-12)
    assert r.iterations == 1 + steps
    one_a_step = prefill + sum(float(cost.time(0, 1, 512 + s, 0, rows=1)) for s in range(steps))
    assert r.finish_s[0] - one_a_step == pytest.approx(cost.kv_token_s * (t - 1) * steps * (steps - 1) / 2)


@pytest.mark.parametrize("rate", [2.0, None])
@pytest.mark.parametrize("kv_admission", ["reserve_full", "on_demand"])
def test_leaps_equal_stepping_with_drafts(rate: float | None, kv_admission: str) -> None:
    """The closed-form decode stretches (fcfs_loop, engine_loop) grow the context by T a step as stepping does."""
    cost = _cost(SPEC)
    req = workload_requests(load_workload("chat"), 300, rate, seed=5)
    a = _run(cost, SPEC, req.arrival_s, req.input_tokens, req.output_tokens, kv_admission=kv_admission)
    b = _run(cost, SPEC, req.arrival_s, req.input_tokens, req.output_tokens, jump=False, kv_admission=kv_admission)
    assert a.iterations == b.iterations
    np.testing.assert_allclose(a.finish_s, b.finish_s, rtol=1e-9)
    np.testing.assert_allclose(a.first_token_s, b.first_token_s, rtol=1e-9)


def test_on_demand_preemption_with_drafts_leaps_as_it_steps() -> None:
    """On-demand KV admission that binds (preemptions, recompute) with drafts: the leaps equal stepping."""
    cost = _cost(SPEC)
    req = workload_requests(load_workload("chat"), 300, None, seed=5)
    a = _run(cost, SPEC, req.arrival_s, req.input_tokens, req.output_tokens, blocks=700, kv_admission="on_demand")
    b = _run(cost, SPEC, req.arrival_s, req.input_tokens, req.output_tokens, blocks=700, jump=False,
             kv_admission="on_demand")
    assert a.preemptions == b.preemptions > 0 and a.iterations == b.iterations
    np.testing.assert_allclose(a.finish_s, b.finish_s, rtol=1e-9)


def test_the_reservation_holds_the_output_tokens_and_the_drafts() -> None:
    """100-token prompt, 200 output tokens in ceil(199 / 2.44) = 82 steps: the last verification writes
    100 + 2.44 x 81 + 1 + 2 slots, + 1: 302 tokens, 19 blocks of 16 (counting steps as tokens: 183, 12 blocks); a
    40-block cache admits two such requests at a time, not three."""
    steps = SPEC.decode_steps(np.array([200]))
    end, need = request_tokens(np.array([100]), np.array([0]), steps, 16, SPEC.tokens_per_step, 2)
    assert int(steps[0]) == 82 and need == [19] and end[0] == pytest.approx(100 + 2.44 * 82)
    assert request_tokens(np.array([100]), np.array([0]), steps, 16, 1.0, 0) == ([182], [12])
    cost = _cost(SPEC)
    r = _run(cost, SPEC, [0.0] * 6, [100] * 6, [200] * 6, blocks=40)
    starts, ends = r.first_token_s, r.finish_s
    assert max(int(np.sum((starts <= t) & (ends > t))) for t in starts) == 2
    old = _run(_cost(SPEC, growth=False), SPEC, [0.0] * 6, [100] * 6, [200] * 6, blocks=40)
    assert max(int(np.sum((old.first_token_s <= t) & (old.finish_s > t))) for t in old.first_token_s) == 3


def test_without_drafts_the_tokens_are_whole_and_the_blocks_ints() -> None:
    prompt, cached, steps = np.array([100, 7, 0]), np.array([0, 5, 3]), np.array([49, 0, 12])
    end, need = request_tokens(prompt, cached, steps, 16, 1.0, 0)
    assert end == [149, 12, 15] and need == [10, 1, 1]
    assert all(type(x) is float for x in end) and all(type(x) is int for x in need)  # fcfs_loop sums floats


def test_a_capacity_probe_runs_decode_steps_not_tokens() -> None:
    """The capacity search's replica probe (`capacity_candidate.Candidate.run`) hands the loops the deployment's
    decode steps, as `serve` does (it handed OSL - 1, a speculative request's tokens, as steps)."""
    from infraplan.serving.capacity_candidate import Candidate
    from infraplan.serving.serving_sim import run_pool

    cand = Candidate(MODEL, ACC, FABRIC, SPEC)
    req = workload_requests(load_workload("chat"), 60, 4.0, seed=2)
    got = cand.run(req, "mixed")
    zeros = np.zeros_like(req.input_tokens)
    want = run_pool(cand.cost, SPEC, cand.blocks, req.arrival_s, req.input_tokens, zeros,
                    SPEC.decode_steps(req.output_tokens), SPEC.engines_per_replica)
    np.testing.assert_array_equal(got.finish_s, want.finish_s)
    assert got.iterations < run_pool(cand.cost, SPEC, cand.blocks, req.arrival_s, req.input_tokens, zeros,
                                     req.output_tokens - 1, SPEC.engines_per_replica).iterations


def test_a_request_whose_drafts_overflow_the_cache_is_refused_up_front() -> None:
    """`fit_check`: prompt + output filling the cache exactly fits without drafts; with K = 2 drafts its last
    verification needs up to K + 1 more slots, so it is refused with a reason (not raised inside the engine)."""
    from infraplan.serving.kv_cache import KvCapacity
    from infraplan.serving.serving_sim import fit_check
    from infraplan.serving.workloads import Requests

    cap = KvCapacity(1.0, 1.0, 1.0, 10.0, 1.0, 1.0, 16, 20)  # 320 tokens
    req = Requests(np.array([0.0]), np.array([120]), np.array([200]))
    assert fit_check(MODEL, cap, PLAIN, req, ACC) is None
    assert "the longest request needs 323" in (fit_check(MODEL, cap, SPEC, req, ACC) or "")
    steps = SPEC.decode_steps(req.output_tokens)
    # the engine would need 120 + 2.44 x 81 + 1 + 2 + 1 = 321.6 tokens: 21 blocks of the 20
    assert request_tokens(req.input_tokens, np.array([0]), steps, 16, SPEC.tokens_per_step, 2)[1] == [21]


def test_context_growth_is_the_expected_tokens_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, r in ((1, 0.9), (2, 0.8), (3, 0.6), (4, 1.0)):
        dep = replace(PLAIN, speculative_tokens=k, acceptance=r)
        leviathan = sum(r ** i for i in range(k + 1))  # 1 + R + ... + R^K (Leviathan et al., eq. 1)
        assert speculative.context_growth(dep) == pytest.approx(leviathan)
    assert speculative.context_growth(PLAIN) == 1.0
    monkeypatch.setattr(speculative, "CONTEXT_GROWTH", False)
    assert speculative.context_growth(SPEC) == 1.0


def test_reserved_past_output_bounds_the_last_verifications_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    """prompt + T (steps - 1) + 1 + K + 1 never passes prompt + output + reserved_past_output, and comes within a
    token of it for some output (the bound is tight)."""
    for k, r in ((1, 0.9), (2, 0.8), (3, 0.5)):
        dep = replace(PLAIN, speculative_tokens=k, acceptance=r)
        extra = speculative.reserved_past_output(dep)
        assert extra == k + 1
        output = np.arange(2, 400)
        steps = dep.decode_steps(output)
        past = dep.tokens_per_step * (steps - 1) + 1 + k + 1 - output
        assert past.max() <= extra and past.max() > extra - 1
    assert speculative.reserved_past_output(PLAIN) == 0
    monkeypatch.setattr(speculative, "CONTEXT_GROWTH", False)
    assert speculative.reserved_past_output(SPEC) == 0
