"""TensorRT-LLM's attention-DP context balancing (`serving.adp_balance`): held context requests, hand-computed."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.serving_profile import AttentionDpBalance
from infraplan.serving import adp_balance, wide_ep_lockstep
from infraplan.serving.adp_balance import BalanceGate, balance_of
from infraplan.serving.engines import serving_profile
from infraplan.serving.llm_iteration import Deployment, IterationCost
from infraplan.serving.lockstep_loop import lockstep_replica

TAU_S = 0.01  # every iteration with tokens lasts this (the cost's host overhead alone)


def _flat_cost() -> IterationCost:
    zeros = np.zeros(513)
    return IterationCost(body_s=zeros, head_s=zeros, kv_token_s=0.0, pair_s=0.0, prefill_fixed_s=0.0,
                         decode_fixed_s=0.0, overhead_s=TAU_S, body_flop_s=zeros, pair_flop_s=0.0)


def _closed_loop(balance: AttentionDpBalance | None) -> np.ndarray:
    """Two ranks, three clients: requests 0 and 2 on rank 0, 1 on rank 1, all sent at 0 and prefilled together in
    iteration 1; request 0 decodes 2 iterations (ends at 3 tau) and its client at once sends request 3 to rank 0,
    while rank 1 has no context request. Returns the first-token times in iterations."""
    arrival, prompt = np.zeros(4), np.array([100, 100, 100, 100])
    steps, rank_of = np.array([2, 50, 50, 5]), np.array([0, 1, 0, 0])
    run = lockstep_replica(_flat_cost(), arrival, prompt, np.zeros(4, dtype=np.int64), steps, rank_of, 2, 64, 512,
                           10**6, 32, "fcfs", "reserve_full", clients=3,
                           balance=BalanceGate(balance) if balance is not None else None)
    return np.asarray(run.first_token_s) / TAU_S


@pytest.mark.parametrize(("timeout", "first_iteration"), [(4, 5), (8, 9)])
def test_a_lone_context_request_waits_for_the_timeout(timeout: int, first_iteration: int) -> None:
    """Without the balance request 3 (sent at 3 tau) prefills in iteration 4 (first token at 4 tau). With it the
    wait counter counted iterations 2 and 3 (no context anywhere, every rank decoding) and holds iteration 4 on:
    rank 1 has no context request; the counter reaches `timeout` in iteration `timeout` + 1, which prefills it."""
    assert _closed_loop(None) == pytest.approx([1, 1, 1, 4])
    held = _closed_loop(AttentionDpBalance(enabled=True, timeout_iterations=timeout, batching_wait_iterations=0))
    assert held == pytest.approx([1, 1, 1, first_iteration])


def test_the_gate_counts_as_the_engine_does() -> None:
    """`_balance_adp_requests`' counters: every rank with a context request and a free slot runs them after the
    batching wait; otherwise held until the timeout, or at once where a rank has no generation request."""
    gate = BalanceGate(AttentionDpBalance(enabled=True, timeout_iterations=3, batching_wait_iterations=2))
    assert gate.admits([1, 0], [0, 2], 8)  # a rank without generation requests: run at once
    assert [gate.admits([1, 0], [1, 2], 8) for _ in range(4)] == [False, False, True, False]  # timeout 3
    assert [gate.admits([1, 1], [1, 2], 8) for _ in range(4)] == [False, False, True, False]  # batching wait 2
    assert gate.admits([1, 1], [1, 8], 8) is False  # rank 1 has no free slot: counted as a wait (count 1)
    gate.idle(5, every_gen=True)  # (1 + 5) % 3
    assert gate.waited == 0
    gate.idle(2, every_gen=True)
    assert gate.waited == 2 and gate.admits([1, 0], [1, 1], 8)  # the third counted iteration reaches the timeout


def test_only_a_stack_that_turns_it_on_balances(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped TensorRT-LLM profile leaves it unset (the engine's default: off): no balance; a profile with it on
    holds context requests on attention-DP deployments only, and the pool runs its ranks in lock-step."""
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine="trtllm", stack="trtllm-0.x")
    assert balance_of(dep) is None
    shipped = serving_profile("trtllm-0.x")
    assert shipped is not None and shipped.attention_dp_balance is None
    on = AttentionDpBalance(enabled=True)
    monkeypatch.setattr(adp_balance, "serving_profile",
                        lambda stack: shipped.model_copy(update={"attention_dp_balance": on}))
    assert balance_of(dep) == on and (on.timeout_iterations, on.batching_wait_iterations) == (50, 10)
    assert balance_of(Deployment(tp=8, ep=8, dtype="fp8", engine="trtllm", stack="trtllm-0.x")) is None
    monkeypatch.setattr(wide_ep_lockstep, "lockstep_pool", lambda *args, **kwargs: "ranks")
    assert wide_ep_lockstep.run_lockstep_pool(lambda *args, **kwargs: "independent", _flat_cost(), dep, 10, np.zeros(1),
                                              np.ones(1), np.zeros(1), np.ones(1), 8) == "ranks"
    monkeypatch.setattr(adp_balance, "ADP_BALANCE", False)
    assert wide_ep_lockstep.run_lockstep_pool(lambda *args, **kwargs: "independent", _flat_cost(), dep, 10, np.zeros(1),
                                              np.ones(1), np.zeros(1), np.ones(1), 8) == "independent"


def test_the_campaigns_balance_only_the_trtllm_attention_dp_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serving_hopper_moe.ADP_BALANCE_CAMPAIGN` (a what-if since hQ40, on since session 52, hB): the TensorRT-LLM
    attention-DP rows run the campaigns' stack (balance on, timeout 60, no batching wait); other rows keep theirs, and
    with it off no row balances (before session 52 every row ran unbalanced: the first assertion failed)."""
    from infraplan.validation import serving_hopper_moe as moe

    rows, _ = moe.sampled_rows(1)
    adp = [r for r in rows if r["backend"] == "trtllm" and r["attention_dp_size"] == "8"]
    other = next(r for r in rows if r["backend"] == "trtllm" and r["attention_dp_size"] in ("", "1"))
    balances = {balance_of(moe.moe_deployment(r)) for r in adp}
    assert len(adp) == 6 and balances == {AttentionDpBalance(enabled=True, timeout_iterations=60,
                                                             batching_wait_iterations=0)}
    kept = moe.moe_deployment(other)
    monkeypatch.setattr(moe, "ADP_BALANCE_CAMPAIGN", False)
    assert all(balance_of(moe.moe_deployment(r)) is None for r in adp)
    assert moe.moe_deployment(other) == kept
