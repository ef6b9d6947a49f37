"""A closed loop's steady draw, served rate and J/token over its own window (hO58, `serving.window_marks.ClosedCuts`).

Before: `serve --concurrency` took the whole run's dynamic joules per token (ramp and drain in) at a served rate
counted over all its sends, which the first wave (N sends at once) reads high by N (n - 1) / (n - N) a cycle: Llama 3
8B fp8 on one H100, 32 clients of 512 / 256 tokens, read 0.18199 / 0.19029 / 0.19236 J per token at 320 / 1,280 /
5,120 requests (5.7 % apart) and 1,054.9 / 1,026.9 / 1,020.6 W per GPU steady. Now each engine's window runs from its
middle request's send to the end of its first client's last request, its work recorded there by the loop, and the
served rate is the tokens completed over the pool's window: 0.19303 / 0.19304 / 0.19305 J, 1,018.9 / 1,018.6 /
1,018.5 W. Checked failing on the base tree (ea98ab4): test_fixed_length_closed_loop_is_flat_in_the_requests
(4.4 % apart), test_closed_loop_says_its_window (its basis names the whole run), and the tests reading
`ClosedCuts`, `closed_window` or `window_rate` (none exist there)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving.client_loop import closed_loop_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.pair_loop import PoolSpec
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.window_marks import ClosedCuts, closed_window
from infraplan.serving.workloads import workload_requests

FIXED = dict(dtype="fp8", input_len=512, output_len=256, concurrency=32)


def test_fixed_length_closed_loop_is_flat_in_the_requests() -> None:
    small = estimate_serving("llama3-8b", "h100-sxm", 1, requests=320, **FIXED)
    large = estimate_serving("llama3-8b", "h100-sxm", 1, requests=1280, **FIXED)
    assert small.joules_per_token == pytest.approx(large.joules_per_token, rel=1e-3)  # 0.19303 / 0.19304 (4.4 %)
    assert small.steady_power_w_per_gpu is not None and large.steady_power_w_per_gpu is not None
    assert small.steady_power_w_per_gpu == pytest.approx(large.steady_power_w_per_gpu, rel=1e-3)  # (2.7 % apart)
    assert small.steady_output_tokens_per_s == pytest.approx(large.steady_output_tokens_per_s, rel=1e-3)
    for r in (small, large):  # the identity of the per-token figures holds over the window
        assert r.steady_power_w_per_gpu == pytest.approx(r.joules_per_token * r.steady_output_tokens_per_s, rel=1e-9)


def test_closed_loop_says_its_window() -> None:
    r = estimate_serving("llama3-8b", "h100-sxm", 1, requests=320, **FIXED)
    assert r.assumptions is not None and "closed loop's window" in (r.assumptions.per_token_basis or "")
    pair = estimate_serving("llama3-8b", "h100-sxm", 2, prefill_gpus=1, requests=320, **FIXED)
    # moved by hO59: the disaggregated closed loop reads its window too (was "whole run's", `serving.pair_loop`)
    assert pair.assumptions is not None and "closed loop's window" in (pair.assumptions.per_token_basis or "")


def test_cuts_follow_the_clients() -> None:
    w = ClosedCuts(40, 4)  # the middle request: max(4, 36 // 2) = 18
    w.sent(17, 1.0)
    assert w.cuts == []
    w.sent(18, 2.0)
    w.ended(5.0)
    w.ended(6.0)  # only the first client to run out ends the window
    assert w.cuts == [2.0, 5.0]
    assert w.rate([1.0, 4.0], 9.0) == pytest.approx(1.0)
    early = ClosedCuts(40, 4)
    early.ended(1.0)  # a client ran out before the middle request was sent: no window
    early.sent(18, 2.0)
    assert early.cuts == [] and early.rate([], 3.0) is None
    assert ClosedCuts(4, 4).mid == -1  # no client sends twice
    sent = np.arange(12, dtype=float)
    finish = sent + 3.0
    assert closed_window(sent, finish, 4) == (sent[4], 11.0)  # request max(4, 4): the clients' last are 8-11
    assert closed_window(sent[:4], finish[:4], 4) is None


def test_closed_engine_window_is_the_engine_run_over_its_sends() -> None:
    """The stepped closed loop records its work at cuts it learns while it runs; the same engine given its final
    arrivals up front with those cuts (the open loop's marks) reads the same work per second."""
    sys_ = load_system("dgx-h100-superpod")
    acc = load_accelerator(sys_.accelerator)
    dep = Deployment(max_batch=64, token_budget=2048)
    cost = build_iteration_cost(load_model("llama3-8b"), acc, Fabric.from_system(sys_, acc), dep)
    req = workload_requests(load_workload("chat"), 400, 1.0, seed=3)
    n, clients = len(req.input_tokens), 16
    zeros, steps = np.zeros_like(req.input_tokens), req.output_tokens - 1
    start = np.zeros(n)
    r = closed_loop_engine(PoolSpec(cost, dep, 20000, 1, "fcfs", "reserve_full"), start, req.input_tokens, zeros,
                           steps, clients, 1e-3)
    assert r.window_rate is not None and 0.0 < r.window_rate <= 2.0
    c0 = float(r.arrival_s[max(clients, (n - clients) // 2)])
    c1 = float(np.min(r.finish_s[n - clients:]))
    order = np.argsort(r.arrival_s, kind="stable")
    again = simulate_engine(cost, r.arrival_s[order], req.input_tokens[order], zeros[order], steps[order],
                            dep.max_batch, dep.token_budget, 20000, dep.block_tokens, cuts=[c0, c1])
    assert again.window_work is not None
    assert np.allclose(again.finish_s, r.finish_s[order], rtol=0, atol=1e-9)  # the same run
    assert r.window_rate == pytest.approx((again.window_work[1] - again.window_work[0]) / (c1 - c0), rel=1e-3)
    assert math.isfinite(r.window_rate)
