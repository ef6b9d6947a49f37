"""serve-plan's answer is the fewest accelerators over every PP level (hN45; `replica_search.whole_runs`).

hL47 (session 44) found `serve-plan llama3-70b --system dgx-h100-superpod --workload code-completion --rate 80`
answering 192 H100 (TP8 PP4) within 256 or 1,024 accelerators and 1,376 (TP8 PP2) within 4,096 or 16,384: the first
PP level with a whole run that met ended the search, and within the small limits PP 2 had no option at all. Each
deeper level is now searched below the best whole run met so far, so a larger limit never gives a larger answer.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from infraplan.serving import capacity
from infraplan.serving.capacity import search_capacity
from infraplan.serving.replica_search import fewest_replicas, option_rank

CODE = (("llama3-70b", "dgx-h100-superpod", 80.0), {"workload": "code-completion"})


def test_a_larger_accelerator_limit_never_gives_a_larger_answer() -> None:
    args, kw = CODE
    capacity.clear_caches()
    plans = {limit: search_capacity(*args, **kw, max_gpus=limit) for limit in (256, 1024, 4096, 16384)}
    capacity.clear_caches()
    answers = {limit: (p.gpus, p.deployment.model_dump() if p.deployment else None) for limit, p in plans.items()}
    assert all(p.feasible and p.meets_slo_full_run for p in plans.values())
    assert len(set(map(repr, answers.values()))) == 1  # 256 holds the answer, so every limit gives it
    gpus = plans[256].gpus or 0
    assert gpus < 192  # both answers hL47 saw met their whole runs: the fewest is at most the smaller
    assert all(o.gpus >= gpus for p in plans.values() for o in p.alternatives or [])


def _levels(monkeypatch: pytest.MonkeyPatch, below: int | None) -> list[list[dict[str, Any]]]:
    """Every PP level's options of the README chat example, each level searched below `below` (None: unbounded)."""
    got: list[list[dict[str, Any]]] = []

    def every_level(next_level: Any, full_run: Any, grow: Any = None) -> tuple[list[Any], list[Any]]:
        while (options := next_level(below)) is not None:
            got.append(sorted(options, key=option_rank))
        return [], []

    with monkeypatch.context() as patched:
        patched.setattr(capacity, "whole_runs", every_level)
        capacity.clear_caches()
        search_capacity("llama3-70b", "dgx-h100-superpod", 100.0, workload="chat")
        capacity.clear_caches()
    return got


def test_a_level_searched_below_a_bound_lists_exactly_the_unbounded_levels_options_below_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The prunes of a bounded level (no layout of more accelerators built, a layout whose pools miss at the most
    replicas that would beat the bound dropped after one probe each, every pool's search probing that most first)
    change no option below the bound: PP 1's best met whole run here is 38 (README chat example)."""
    free, bounded = _levels(monkeypatch, None), _levels(monkeypatch, 38)
    assert len(free) == len(bounded) == 4  # PP 1, 2, 4, 8
    for unbounded, below in zip(free, bounded, strict=True):
        assert [o for o in unbounded if o["gpus"] < 38] == below
    assert any(below for below in bounded)  # the comparison is not vacuous: some level has options below 38


@pytest.mark.parametrize("seed", range(200))
def test_probing_the_top_first_answers_as_the_full_search_within_it(seed: int) -> None:
    """`fewest_replicas(top=t)`: the plain search's answer when it is <= t, else None (any larger answer would be
    discarded), for monotone verdicts; a miss at t costs one probe."""
    rng = random.Random(seed)
    high = rng.randint(1, 300)
    low = rng.randint(1, high)
    threshold = rng.randint(1, high + 20)  # the fewest replicas that meet (beyond high: none does)
    top = rng.randint(1, high)
    overloaded = rng.choice((0.0, rng.uniform(1, threshold)))  # only below the threshold: the premise holds
    calls: list[int] = []

    def meets(r: int) -> bool:
        calls.append(r)
        return r >= threshold

    plain = fewest_replicas(meets, low, high, overloaded=overloaded if low == 1 else 0.0)
    calls.clear()
    got = fewest_replicas(meets, low, high, overloaded=overloaded if low == 1 else 0.0, top=top)
    assert got == (plain if plain is not None and plain <= top else None)
    if top < low:
        assert not calls  # nothing to probe: every answer would be discarded
    elif threshold > top:
        assert calls == [top]
