"""Engine scheduling policies are pluggable: a registered alternative changes latency in the expected way."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.serving_loader import load_workload
from infraplan.network.collectives import Fabric
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.schedulers import SCHEDULERS, FcfsScheduler, PrefillEntry, make_scheduler
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.workloads import workload_requests

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                            Deployment(max_batch=64, token_budget=8192))


class DecodeFirstSmallChunks(FcfsScheduler):
    """FCFS admission, but at most 256 prefill tokens per iteration: gentle on decode, slow to first token."""

    chunk = 256

    def schedule_prefill(self, prefill: deque[PrefillEntry], budget: int) -> tuple[int, float, list[int]]:
        return super().schedule_prefill(prefill, min(budget, self.chunk))


@pytest.fixture
def decode_first() -> Iterator[str]:
    SCHEDULERS["decode-first"] = DecodeFirstSmallChunks
    try:
        yield "decode-first"
    finally:
        del SCHEDULERS["decode-first"]


def run(policy: str, jump: bool = True):
    req = workload_requests(load_workload("chat"), 300, 4.0, seed=1)
    zeros = np.zeros_like(req.input_tokens)
    return simulate_engine(COST, req.arrival_s.astype(float), req.input_tokens, zeros, req.output_tokens - 1,
                           64, 2048, 100_000, 16, jump=jump, scheduler=policy)


def test_a_registered_policy_raises_ttft(decode_first: str) -> None:
    fcfs, small = run("fcfs"), run(decode_first)
    req = workload_requests(load_workload("chat"), 300, 4.0, seed=1)
    ttft_fcfs, ttft_small = (np.median(r.first_token_s - req.arrival_s) for r in (fcfs, small))
    assert ttft_small > 1.5 * ttft_fcfs  # prompts wait for many small chunks
    assert np.nanmax(small.finish_s) == pytest.approx(np.nanmax(fcfs.finish_s), rel=0.05)  # same work overall
    # the closed-form decode jump stays exact under the other policy
    stepped = run(decode_first, jump=False)
    assert stepped.iterations == small.iterations
    np.testing.assert_allclose(small.finish_s, stepped.finish_s, rtol=1e-9)


def test_policies_are_chosen_by_name() -> None:
    assert isinstance(make_scheduler("fcfs"), FcfsScheduler)
    with pytest.raises(ValueError, match="unknown scheduler 'lifo'"):
        make_scheduler("lifo")
    assert "decode-first" not in SCHEDULERS


def test_prefill_first_pauses_decode_for_a_new_prompt() -> None:
    # request 0 is decoding when request 1's 4000-token prompt arrives
    arrival, prompt, out = np.array([0.0, 0.05]), np.array([256, 4000]), np.array([200, 2])
    zeros = np.zeros_like(prompt)
    mixed, first = (simulate_engine(COST, arrival, prompt, zeros, out - 1, 64, 1024, 100_000, 16, scheduler=s)
                    for s in ("fcfs", "prefill-first"))
    # prefill-only iterations get the whole budget: the prompt's first token comes sooner ...
    assert first.first_token_s[1] < mixed.first_token_s[1]
    # ... and request 0 streams no token while its four prefill-only chunks run: it ends at least their time
    # later than alone; mixed iterations (its token rides along) delay it less
    chunks = sum(float(COST.time(c, 0, 0, c * (k * 1024 + (c + 1) / 2.0), rows=int(k == 3)))
                 for k, c in enumerate((1024, 1024, 1024, 928)))
    alone = simulate_engine(COST, arrival[:1], prompt[:1], zeros[:1], out[:1] - 1, 64, 1024, 100_000, 16)
    assert first.finish_s[0] - alone.finish_s[0] >= chunks
    assert mixed.finish_s[0] - alone.finish_s[0] < 0.9 * chunks


@pytest.mark.parametrize("clients", [0, 12])
def test_prefill_first_jumps_equal_stepping(clients: int) -> None:
    req = workload_requests(load_workload("chat"), 300, 4.0, seed=2)
    zeros = np.zeros_like(req.input_tokens)
    a, b = (simulate_engine(COST, req.arrival_s.astype(float), req.input_tokens, zeros, req.output_tokens - 1, 64,
                            2048, 100_000, 16, jump=j, scheduler="prefill-first", clients=clients)
            for j in (True, False))
    assert a.iterations == b.iterations
    np.testing.assert_allclose(a.finish_s, b.finish_s, rtol=1e-9)
    np.testing.assert_allclose(a.first_token_s, b.first_token_s, rtol=1e-9)


def test_prefill_first_keeps_closed_loop_clients_in_waves() -> None:
    # 16 clients x 1024-token prompts = 8 chunks of a 2048 budget: mixed iterations stagger the first tokens and
    # so the finishes; prefill-first starts every decode together, so each wave ends on one iteration
    n, clients = 64, 16
    prompt, steps = np.full(n, 1024), np.full(n, 63)
    zeros = np.zeros_like(prompt)
    runs = {s: simulate_engine(COST, np.zeros(n), prompt, zeros, steps, 64, 2048, 100_000, 16, scheduler=s,
                               clients=clients) for s in ("fcfs", "prefill-first")}
    waves = runs["prefill-first"].finish_s.reshape(-1, clients)
    assert np.all(waves.max(axis=1) == waves.min(axis=1))
    assert len(np.unique(runs["fcfs"].finish_s[:clients])) >= clients // 2
    ttft = {s: np.mean(r.first_token_s - r.arrival_s) for s, r in runs.items()}
    assert ttft["prefill-first"] > 2.0 * ttft["fcfs"]  # a wave's prompts queue behind each other


def test_sglang_stack_runs_prefill_first() -> None:
    from infraplan.serving.engines import load_engine

    assert load_engine("sglang-0.x").scheduler == "prefill-first"
    assert load_engine("vllm-0.x").scheduler == "fcfs" and load_engine("trtllm-0.x").scheduler == "fcfs"
    assert isinstance(make_scheduler("prefill-first"), FcfsScheduler) and make_scheduler("prefill-first").prefill_first


def test_sglang_adder_never_cuts_a_further_prompt_into_the_rest() -> None:
    # max_prefill_tokens = ISL + 1500 (AIConfigurator's SGLang rule): one 4000-token prompt per iteration, where
    # "fcfs" cuts 1500 tokens of the next into the rest; short prompts join whole while below the input left
    adder, fcfs = make_scheduler("sglang-adder"), make_scheduler("fcfs")
    assert not adder.prefill_first and adder.head_of_line
    two: deque[PrefillEntry] = deque([[0, 4000, 0], [1, 4000, 0]])
    assert adder.schedule_prefill(two, 5500)[::2] == (4000, [0]) and list(two) == [[1, 4000, 0]]
    assert adder.schedule_prefill(two, 5499)[::2] == (4000, [1]) and not two  # one decode token rides along
    cut: deque[PrefillEntry] = deque([[0, 4000, 0], [1, 4000, 0]])
    assert fcfs.schedule_prefill(cut, 5500)[::2] == (5500, [0]) and list(cut) == [[1, 2500, 1500]]
    short: deque[PrefillEntry] = deque([[0, 1000, 0], [1, 1000, 0], [2, 1000, 0]])
    p_tok, pairs, done = make_scheduler("sglang-adder").schedule_prefill(short, 2500)
    assert (p_tok, done, pairs) == (2000, [0, 1], 2 * 1000 * 1001 / 2.0)  # the third: 1000 >= 500 left


def test_sglang_adder_cuts_the_rest_when_the_budget_is_the_chunk() -> None:
    # max_prefill_tokens >= chunked_prefill_size (8192): SGLang chunks a further prompt into the chunk left
    adder = make_scheduler("sglang-adder")
    q: deque[PrefillEntry] = deque([[0, 8192, 0], [1, 8192, 0]])
    assert adder.schedule_prefill(q, 8192)[::2] == (8192, [0])
    assert adder.schedule_prefill(q, 8191)[::2] == (8191, []) and list(q) == [[1, 1, 8191]]
    q.append([2, 8192, 0])
    assert adder.schedule_prefill(q, 8191)[::2] == (8191, [1]) and list(q) == [[2, 2, 8190]]


def test_sglang_adder_jumps_equal_stepping() -> None:
    n, clients = 48, 6
    prompt, steps = np.full(n, 1500), np.full(n, 40)
    zeros = np.zeros_like(prompt)
    a, b = (simulate_engine(COST, np.zeros(n), prompt, zeros, steps, 64, 2000, 100_000, 16, jump=j,
                            scheduler="sglang-adder", clients=clients) for j in (True, False))
    assert a.iterations == b.iterations
    np.testing.assert_allclose(a.first_token_s, b.first_token_s, rtol=1e-9)
    fcfs = simulate_engine(COST, np.zeros(n), prompt, zeros, steps, 64, 2000, 100_000, 16, clients=clients)
    assert not np.allclose(a.first_token_s, fcfs.first_token_s)  # whole prompts: a different schedule
