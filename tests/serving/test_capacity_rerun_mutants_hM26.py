"""Mutation wave hM26 on `serving.capacity_answer` (session 47's `missed_reason`, `missed_lines`): the rules their
docstrings state, on hand-built runs.

* An SLO is met at its limit (`capacity_horizon.judged_run` counts a ratio <= 1 as met): a percentile equal to its
  SLO is not "above" it.
* Where both percentiles are over, the reason names TTFT (the first of the pair, as serve-plan prints them).
* Where neither is over (the probes and the run both met, yet the whole run was judged a miss without a reason) the
  line still quotes the TTFT figure against the TTFT SLO, never the TPOT one.
* `missed_lines` lists every whole run that missed except the answer's own (its miss is `meets_slo_full_run`).
"""

from __future__ import annotations

from typing import Any

from infraplan.serving.capacity_answer import missed_lines, missed_reason

SLO = (0.25, 0.05)


def test_a_percentile_at_its_slo_is_not_the_one_named() -> None:
    """TTFT exactly at 0.25 s meets (<= its SLO); TPOT 0.06 s over 0.05 s is the miss the reason names."""
    got = missed_reason({"ttft_s": {"p99": 0.25}, "tpot_s": {"p99": 0.06}}, SLO, "p99", "")
    assert got.startswith("its TPOT p99 0.06 s is above the SLO (0.05 s)"), got


def test_both_over_names_ttft_first() -> None:
    got = missed_reason({"ttft_s": {"p90": 0.4}, "tpot_s": {"p90": 0.09}}, SLO, "p90", "")
    assert got.startswith("its TTFT p90 0.4 s is above the SLO (0.25 s)"), got


def test_neither_over_quotes_ttft_against_its_own_slo() -> None:
    got = missed_reason({"ttft_s": {"p50": 0.1}, "tpot_s": {"p50": 0.01}}, SLO, "p50", "")
    assert got.startswith("its TTFT p50 0.1 s is above the SLO (0.25 s)"), got
    assert "TPOT" not in got and "0.05" not in got


def _option(gpus: int, disaggregated: bool = False) -> dict[str, Any]:
    return {"dtype": "fp8", "tp": 4, "pp": 1, "max_batch": 64, "prefill_replicas": 3, "disaggregated": disaggregated,
            "gpus": gpus}


def _run(ttft: float, tpot: float, n: int, why: str = "") -> tuple[dict[str, Any], int, str]:
    return {"ttft_s": {"p99": ttft}, "tpot_s": {"p99": tpot}}, n, why


def test_missed_lines_leave_out_the_answer_and_the_runs_that_met() -> None:
    """Three whole runs: a missed one (listed), the answer's own missed run (left out: its miss is
    `meets_slo_full_run`) and one that met (left out)."""
    other, answer, met = _option(64, disaggregated=True), _option(48), _option(96)
    runs = [(other, _run(0.3, 0.02, 17_408, "a pool's queue does not settle"), False),
            (answer, _run(0.26, 0.02, 20_000), False),
            (met, _run(0.2, 0.02, 30_000), True)]
    lines = missed_lines(runs, answer, "p99", (0.25, 0.05))
    assert len(lines) == 1
    assert lines[0].startswith("fp8 TP4 PP1 batch 64, 3 prefill replicas on 64 accelerators: its full run of 17,408")
    assert lines[0].endswith("(TTFT p99 0.3 s, TPOT p99 0.02 s; a pool's queue does not settle)")
    # the same run as the answer's own is left out by identity, not by its figures
    assert missed_lines(runs, other, "p99", (0.25, 0.05))[0].startswith("fp8 TP4 PP1 batch 64 on 48 accelerators")


def test_a_plain_miss_names_its_percentiles_above_the_slo() -> None:
    """A whole run that missed with no `judged_run` reason (its percentiles shown over the SLO, nothing else) names
    them (hS71: README chat's 32-accelerator TP2 PP1 run printed "(TTFT p99 1.62 s, TPOT p99 0.23 s)" alone); a run
    with a reason keeps it as given (`judged_run` names the percentiles first)."""
    plain, answer = _option(64), _option(72)
    runs = [(plain, _run(0.3, 0.06, 16_384), False), (answer, _run(0.2, 0.02, 20_000), True)]
    assert missed_lines(runs, answer, "p99", (0.25, 0.05))[0].endswith(
        "(TTFT p99 0.3 s, TPOT p99 0.06 s; its TTFT p99 0.3 s is above the SLO (0.25 s); its TPOT p99 0.06 s is above "
        "the SLO (0.05 s))")
    runs[0] = (plain, _run(0.3, 0.02, 16_384, "why"), False)
    assert missed_lines(runs, answer, "p99", (0.25, 0.05))[0].endswith("(TTFT p99 0.3 s, TPOT p99 0.02 s; why)")
