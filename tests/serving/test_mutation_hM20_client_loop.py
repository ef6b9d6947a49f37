"""Mutation wave hM20 (session 44) on `serving.client_loop`: the client cycle's switches, the lag of a one-step
request and the closed loop's client count, each against a hand calculation from the module docstring."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import client_loop
from infraplan.serving.client_loop import client_cycle, closed_loop_engine, next_request_s
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.pair_loop import PoolSpec


@pytest.mark.parametrize("front_end_in", [False, True])
@pytest.mark.parametrize("lag_in", [False, True])
def test_each_switch_adds_its_own_term_and_nothing_else(monkeypatch: pytest.MonkeyPatch, front_end_in: bool,
                                                         lag_in: bool) -> None:
    """gap = round trip (+ front end where FRONT_END_IN_CYCLE); lag = schedules ahead AND LAG_IN_CYCLE."""
    monkeypatch.setattr(client_loop, "FRONT_END_IN_CYCLE", front_end_in)
    monkeypatch.setattr(client_loop, "LAG_IN_CYCLE", lag_in)
    for ahead in (False, True):
        gap, lag = client_cycle(1e-3, 0.25, ahead)
        assert gap == pytest.approx(1e-3 + (0.25 if front_end_in else 0.0), rel=0, abs=1e-15)
        assert lag is (ahead and lag_in)


def test_a_one_step_request_is_lagged_by_its_whole_decode() -> None:
    """One decode iteration: the mean iteration is the whole first-to-last stretch, so the real last token comes
    (finish - first) / 1 after the simulated one: 1.5 + 0.5, plus the 1 ms gap."""
    assert next_request_s(1.0, 1.5, 1, 1e-3, True) == pytest.approx(2.001, rel=0, abs=1e-12)
    assert next_request_s(1.0, 1.5, 0, 1e-3, True) == pytest.approx(1.501, rel=0, abs=1e-12)  # no decode: no lag


def test_a_closed_loop_of_no_client_is_refused() -> None:
    cluster = Cluster.resolve("dgx-h100-superpod")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=8, token_budget=8192)
    pool = PoolSpec(build_iteration_cost(load_model("llama3-8b"), cluster.accelerator, cluster.fabric, dep), dep,
                    10**6, 1, "fcfs-whole", "reserve_full")
    n = 4
    with pytest.raises(ValueError, match="at least one client"):
        closed_loop_engine(pool, np.zeros(n), np.full(n, 512), np.zeros(n, dtype=np.int64), np.full(n, 16), 0, 1e-3)
