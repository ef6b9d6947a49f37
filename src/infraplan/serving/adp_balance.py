"""TensorRT-LLM's attention-DP context balancing: context requests held until every rank can take one.

What is modelled (TensorRT-LLM's PyTorch executor with `enable_attention_dp` and `attention_dp_config:
{enable_balance, timeout_iters, batching_wait_iters}`, tensorrt_llm/llmapi/llm_args.py `AttentionDpConfig` and
tensorrt_llm/_torch/pyexecutor/py_executor.py `_balance_adp_requests`, called from `_schedule` every iteration;
RECALLED from the 1.0 / 1.1 sources, NOT re-read: PyPI holds only 1.7 kB `wheel_stub` sdists for every 1.x
release, the wheels are on NVIDIA's own index, out of reach here). Each iteration every rank's scheduler picks its
context and generation requests, and the ranks all-gather how many of each they scheduled (identical state on every
rank, so every rank takes the same decision). With the balance on:

* every rank has a context request and a free generation slot (generation requests < max_batch_size): the wait
  counter restarts; where every rank also has generation requests, the context requests are held for
  `batching_wait_iters` iterations (to batch more of them), then run;
* otherwise the context requests of every rank are held and the wait counter counts the iteration (also one in
  which no rank has a context request); they run when it reaches `timeout_iters` (and it restarts), or at once
  where some rank has no generation request (nothing to keep busy).

So a context request on one rank waits for the others' (the ranks then prefill in the same iteration and do not
stall each other's decode: the stack's `attention_dp_prefill_stall: false`) or for the timeout. Defaults (the
same recalled `AttentionDpConfig`): enable_balance False, timeout_iters 50, batching_wait_iters 10; unset
`attention_dp_config`: no balance. The gate (`BalanceGate`) runs inside the lock-step ranks' loop
(`serving.lockstep_loop`, `serving.wide_ep_lockstep`), where every iteration is the slowest rank's.

How requests reach the ranks: TensorRT-LLM gives each new request to the rank with the fewest active requests
(`ExecutorRequestQueue` `_balance_requests_across_ranks`, recalled): with equal closed-loop clients that is the
fixed client-to-rank split the simulator uses (`wide_ep_lockstep.engine_of_requests`).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.serving_profile import AttentionDpBalance
from infraplan.serving.engines import serving_profile

ADP_BALANCE = True  # stacks whose profile turns the balance on hold context requests (toggle to compare)


def balance_of(dep: Any) -> AttentionDpBalance | None:
    """The deployment's attention-DP balancing where its stack turns it on and it has several ranks, else None."""
    if not ADP_BALANCE or dep.attention_dp <= 1 or dep.pp > 1:
        return None
    profile = serving_profile(dep.stack)
    balance = profile.attention_dp_balance if profile is not None else None
    return balance if balance is not None and balance.enabled else None


class BalanceGate:
    """`_balance_adp_requests`' two counters over one replica's ranks (module docstring)."""

    __slots__ = ("timeout", "batching", "waited", "batched")

    def __init__(self, balance: AttentionDpBalance) -> None:
        self.timeout, self.batching = balance.timeout_iterations, balance.batching_wait_iterations
        self.waited = self.batched = 0

    def admits(self, context: list[int], generation: list[int], max_batch: int) -> bool:
        """Whether this iteration runs the ranks' scheduled context requests (False: every rank holds them), from
        each rank's context and generation request counts."""
        every_gen = all(g > 0 for g in generation)
        if all(c > 0 for c in context) and all(g < max_batch for g in generation):
            self.waited = 0
            if every_gen:
                if self.batched < self.batching:
                    self.batched += 1
                    return False
                self.batched = 0
            return True
        self.waited += 1
        if self.waited >= self.timeout or not every_gen:
            self.waited = 0
            return True
        return False

    def idle(self, iterations: int, every_gen: bool) -> None:
        """Count `iterations` in which no rank has a context request (a leapt decode stretch): each one counts, the
        counter restarting at the timeout, or at once where some rank has no generation request."""
        if not every_gen or self.timeout <= 0:
            self.waited = 0
        else:
            self.waited = (self.waited + iterations) % self.timeout
