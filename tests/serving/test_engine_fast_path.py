"""The engine's inline FCFS path (no scheduler call per iteration, issue 18) gives bit-identical results to the
same policy run through the `Scheduler` methods, on open-loop, offline, closed-loop, KV-bound and stepped runs."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.schedulers import FcfsScheduler, PrefillEntry, PrefillFirstScheduler
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))


class ViaMethods(FcfsScheduler):
    """FCFS through overridden (but equal) methods: the engine must call them instead of its inline copy."""

    def __init__(self, prefill_first: bool) -> None:
        self.prefill_first = prefill_first
        self.calls = 0

    def pick(self, waiting: deque[int], need: list[int], free: int) -> int | None:
        self.calls += 1
        return super().pick(waiting, need, free)

    def schedule_prefill(self, prefill: deque[PrefillEntry], budget: int) -> tuple[int, float, list[int]]:
        self.calls += 1
        return super().schedule_prefill(prefill, budget)


CASES = {  # name: (requests/s or None for all at t = 0, max batch, token budget, KV blocks, jump, clients)
    "open loop, busy": (40.0, 64, 2048, 100_000, True, 0),
    "open loop, light": (4.0, 64, 2048, 100_000, True, 0),
    "offline": (None, 64, 8192, 100_000, True, 0),
    "KV-bound, small budget": (40.0, 32, 512, 3_000, True, 0),
    "closed loop": (None, 64, 2048, 100_000, True, 24),
    "stepped": (20.0, 16, 1024, 20_000, False, 0),
}


@pytest.mark.parametrize("prefill_first", [False, True], ids=["fcfs", "prefill-first"])
@pytest.mark.parametrize("case", list(CASES))
def test_inline_fcfs_equals_the_scheduler_methods_bitwise(case: str, prefill_first: bool) -> None:
    rate, max_batch, budget, blocks, jump, clients = CASES[case]
    req = workload_requests(load_workload("chat"), 400, rate, seed=3)
    zeros = np.zeros_like(req.input_tokens)
    args = (COST, req.arrival_s.astype(float), req.input_tokens, zeros, req.output_tokens - 1, max_batch, budget,
            blocks, 16)
    methods = ViaMethods(prefill_first)
    slow = simulate_engine(*args, jump=jump, clients=clients, scheduler=methods)
    fast = simulate_engine(*args, jump=jump, clients=clients,
                           scheduler=PrefillFirstScheduler() if prefill_first else FcfsScheduler())
    assert methods.calls > len(req.arrival_s)  # every request went through pick; the prefill cuts too
    for got, want in ((fast.first_token_s, slow.first_token_s), (fast.finish_s, slow.finish_s),
                      (fast.arrival_s, slow.arrival_s)):
        assert np.isfinite(want).all()
        assert np.array_equal(got, want)  # bit for bit, not approximately
    assert (fast.busy_s, fast.compute_s, fast.iterations) == (slow.busy_s, slow.compute_s, slow.iterations)
