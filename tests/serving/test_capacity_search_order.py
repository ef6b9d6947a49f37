"""The capacity search's likeliest-smallest-first order (`serving.replica_search.run_level`) lists the options the plain
enumeration-order search lists, tie for tie, and on a real search answers alike with fewer probes."""

from __future__ import annotations

import math
import random
from types import SimpleNamespace
from typing import Any

import pytest
from tests.serving.conftest import count_probes

from infraplan.serving import capacity, replica_search
from infraplan.serving.capacity import search_capacity
from infraplan.serving.replica_search import ALTERNATIVES, SearchJob, option_rank, run_level


def _jobs(rng: random.Random, candidates: int) -> tuple[list[SearchJob], dict[int, tuple[list[int], list[int]]]]:
    """Random candidates (colocated + disaggregated jobs): each job's answer and the lower ends its search
    climbs through (a moot search stops at the first one that places it behind ALTERNATIVES + 1 options)."""
    jobs: list[SearchJob] = []
    truth: dict[int, tuple[list[int], list[int]]] = {}
    for _ in range(candidates):
        gpr = rng.choice((1, 2, 4, 8))
        high = 4096 // gpr
        low = rng.randint(1, 40)
        cand: Any = SimpleNamespace(dep=SimpleNamespace(gpus_per_replica=gpr))
        option = {"dtype": rng.choice(("bf16", "fp8")), "tp": gpr, "pp": 1, "ep": 1, "attention_dp": 1,
                  "max_batch": rng.choice((64, 256))}
        twin = bool(jobs) and rng.random() < 0.3  # the previous candidate in the other dtype: the sort's ties
        if twin:
            last = jobs[-2]
            cand, low, high = last.cand, rng.randint(1, last.low), last.high  # its answers: still >= its bound
            option = {**last.option, "dtype": "fp8" if last.option["dtype"] == "bf16" else "bf16"}
        for mode in (("mixed",), ("prefill", "decode")):
            first = low if mode == ("mixed",) else 2
            total = rng.randint(first, first + 60) if rng.random() > 0.1 else high + 1  # some beyond the limit
            ends = sorted({first, *(rng.randint(first, total) for _ in range(4)), total})
            counts = [total] if len(mode) == 1 else [max(1, total // 3), total - max(1, total // 3)]
            truth[len(jobs)] = truth[len(jobs) - 2] if twin else (counts, ends)
            jobs.append(SearchJob(len(jobs), mode, cand, low, high, option))
    return jobs, truth


def _runner(truth: dict[int, tuple[list[int], list[int]]], calls: list[int]):  # type: ignore[no-untyped-def]
    def run(job: SearchJob, among: list[dict[str, Any]]) -> list[int] | None:
        counts, ends = truth[job.order]
        for lo in ends:
            calls[0] += 1
            if lo > job.high:
                return None
            if sum(o["gpus"] < lo * job.gpr for o in among) > ALTERNATIVES:
                return None  # moot
        return counts
    return run


def _plain(jobs: list[SearchJob], run, limit: int) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The enumeration-order search, as `search_capacity` ran it before `run_level`."""
    options: list[dict[str, Any]] = []
    best = math.inf
    for job in jobs:
        if len(job.mode) == 1 and job.low * job.gpr > min(best, limit):
            continue
        got = run(job, options)
        if got is None:
            continue
        options.append({"gpus": sum(got) * job.gpr, **job.option, "replicas": sum(got),
                        "prefill_replicas": got[0] if len(got) == 2 else 0, "disaggregated": len(got) == 2})
        best = min(best, options[-1]["gpus"])
    return options


@pytest.mark.parametrize("seed", range(40))
def test_the_listed_options_are_the_enumeration_orders(seed: int) -> None:
    rng = random.Random(seed)
    jobs, truth = _jobs(rng, rng.randint(1, 30))
    limit = rng.choice((64, 512, 4096))
    plain_calls, level_calls = [0], [0]
    plain = sorted(_plain(jobs, _runner(truth, plain_calls), limit), key=option_rank)
    level = sorted(run_level(jobs, _runner(truth, level_calls), limit), key=option_rank)
    assert level[:ALTERNATIVES + 1] == plain[:ALTERNATIVES + 1]


def test_a_real_search_answers_alike_with_fewer_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    probes = count_probes(monkeypatch)
    args = ("llama3-8b", "dgx-h100-superpod", 150.0)  # 94 probes, 103 in enumeration order
    kw: dict[str, Any] = {"workload": "chat", "requests": 300}
    capacity.clear_caches()
    ordered = search_capacity(*args, **kw)
    ordered_probes, probes[0] = probes[0], 0
    with monkeypatch.context() as plain:
        plain.setattr(replica_search, "_likeliest_smallest", lambda job: job.order)
        capacity.clear_caches()
        enumerated = search_capacity(*args, **kw)
    capacity.clear_caches()
    assert ordered.to_json() == enumerated.to_json()
    missed = sum("its full run" in line for line in ordered.rejected or [])  # whole runs that missed: not next-best
    assert ordered.meets_slo_full_run and len(ordered.alternatives or []) == ALTERNATIVES - missed
    assert ordered_probes < probes[0]
