"""A missed whole run's reason names every percentile that missed outright first, then the unproven ones (hH63).

README's vLLM chat example (`serve-plan llama3-70b --system dgx-h100-superpod --rate 100 --workload chat --stack
vllm-0.x`) listed "fp8 TP1 PP4 batch 256 on 32 accelerators: its full run of 32,768 requests misses the SLO (TTFT p99
1.9 s, TPOT p99 0.22 s; its TTFT p99 is not shown within the SLO at 99% confidence ...)": its TPOT p99 missed the
200 ms SLO outright, yet the reason named only the TTFT that was under its SLO but not shown so
(`capacity_horizon.judged_run` built it from the unshown percentiles alone, the first of them). The fakes below count
1,000 requests: at most 2 over a p99's SLO show it within at 0.99, 19 show it above (hQ51's `capacity_confidence`).
"""

from __future__ import annotations

import re

import numpy as np

from infraplan.serving import capacity
from infraplan.serving.capacity_answer import missed_reason
from infraplan.serving.capacity_horizon import judged_run
from infraplan.serving.workloads import Requests

SLO = (2.0, 0.2)


def _requests(n: int) -> Requests:
    return Requests(np.arange(n, dtype=float), np.full(n, 10), np.full(n, 10))


def _fake(ttft: tuple[float, int], tpot: tuple[float, int]):  # type: ignore[no-untyped-def]
    """A run reading (p99, count over the SLO) for TTFT and TPOT."""
    def simulate(r: Requests) -> dict[str, object]:
        return {"ttft_s": {"p99": ttft[0]}, "tpot_s": {"p99": tpot[0]}, "ttft_over_slo_count": ttft[1],
                "tpot_over_slo_count": tpot[1]}
    return simulate


def test_an_outright_tpot_miss_is_named_before_an_unshown_ttft() -> None:
    """README's case by hand: TTFT p99 1.9 s under 2 s with 6 of 1,000 over (neither shown within nor above), TPOT
    p99 0.22 s over 0.2 s with 30 over (shown above). Failed before the fix: the reason was "its TTFT p99 is not shown
    within the SLO ..." alone."""
    _, ttft_ratio, tpot_ratio, why, _ = judged_run(_fake((1.9, 6), (0.22, 30)), _requests(1000), "p99", SLO, 99.0,
                                                   (False, False), 0.0)
    assert why.startswith("its TPOT p99 0.22 s is above the SLO (0.2 s); its TTFT p99 is not shown within"), why
    assert tpot_ratio == 0.22 / 0.2 and 1.0 < ttft_ratio < 1.0 + 1e-12  # the far miss keeps its own ratio


def test_two_unshown_percentiles_are_both_named() -> None:
    """Both under their SLOs, both undecided (6 of 1,000 over each): the reason names both (it named TTFT only)."""
    _, ttft_ratio, tpot_ratio, why, _ = judged_run(_fake((1.9, 6), (0.19, 6)), _requests(1000), "p99", SLO, 99.0,
                                                   (False, False), 0.0)
    assert why.startswith("its TTFT and TPOT p99 are not shown within the SLO"), why
    assert 1.0 < ttft_ratio < 1.0 + 1e-12 and 1.0 < tpot_ratio < 1.0 + 1e-12


def test_an_unsettled_pool_names_the_outright_miss_first() -> None:
    """A pool that cannot settle (not simulated for confidence) whose TTFT also read over its SLO: both said, the
    percentile first; a run over no SLO keeps the settling reason alone."""
    _, _, _, why, _ = judged_run(_fake((2.5, 40), (0.1, 0)), _requests(1000), "p99", SLO, 99.0, (False, True), 0.0)
    assert why.startswith("its TTFT p99 2.5 s is above the SLO (2 s); a pool's queue does not settle"), why
    _, _, _, why, _ = judged_run(_fake((1.0, 0), (0.1, 0)), _requests(1000), "p99", SLO, 99.0, (False, True), 0.0)
    assert why.startswith("a pool's queue does not settle"), why


def test_a_plain_miss_names_both_percentiles_over() -> None:
    """The answer's own miss without a judged reason (the probes met): both percentiles over are named, TTFT first
    (it named TTFT alone)."""
    got = missed_reason({"ttft_s": {"p99": 2.4}, "tpot_s": {"p99": 0.3}}, SLO, "p99", "")
    assert got.startswith("its TTFT p99 2.4 s is above the SLO (2 s); its TPOT p99 0.3 s is above the SLO (0.2 s) "
                          "where its replica probes met it"), got


def test_readme_vllm_chat_rejected_lines_name_their_outright_misses() -> None:
    """The README line itself: every rejected whole run whose printed percentile is over its SLO names it as above
    the SLO, and no percentile over its SLO is called merely "not shown" (the 32-accelerator TP1 PP4 run read TPOT
    p99 0.22 s)."""
    capacity.clear_caches()
    r = capacity.search_capacity("llama3-70b", "dgx-h100-superpod", 100.0, workload="chat", stack="vllm-0.x")
    capacity.clear_caches()
    lines = [line for line in r.rejected if "its full run of" in line]
    assert lines, r.rejected
    for line in lines:
        figures = re.search(r"\(TTFT p99 ([\d.e+-]+) s, TPOT p99 ([\d.e+-]+) s", line)
        assert figures is not None, line
        for name, got, limit in (("TTFT", float(figures[1]), SLO[0]), ("TPOT", float(figures[2]), SLO[1])):
            if got > limit:
                assert f"its {name} p99 {figures[1 if name == 'TTFT' else 2]} s is above the SLO" in line, line
                assert not re.search(rf"its (\w+ and )?{name}( and \w+)? p99 (is|are) not shown", line), line
