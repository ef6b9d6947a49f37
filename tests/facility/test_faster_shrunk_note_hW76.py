"""hW (session 76): a job whose smaller plan runs faster than the whole one says so where its goodput passes 100 %.

gpt-oss-120b at EP64 on all 576 GPUs of gb200-nvl72-superpod places 72 ranks a rack (NeMo's launcher), so each
64-rank EP group crosses a domain edge (88 % of its all-to-all on the NICs); the 448-GPU plan a shrunk job restarts
on places 64 a rack and keeps every group inside one. `--no-spare-policy shrink` prices that smaller plan
(`planning.shrunk_plan`): 1.16x the whole plan's tokens a second, so the run's goodput with repairs was 104.2 %
against 99.0 % with spares standing in, "a run's wall clock 0.95x as long", and nothing said why a failure speeds the
job up. Now the policy's line names the faster smaller plan (`facility.spare_policy.faster_note`); the figures are
unchanged, and a job whose smaller plans are slower (hW73's llama3-70b TP4 PP2) says nothing more.
"""

from __future__ import annotations

import pytest

from infraplan.facility.spare_policy import faster_note
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

NVL72 = "gb200-nvl72-superpod"


def _policy_line(notes: list[str]) -> str:
    return next(n for n in notes if "--no-spare-policy" in n)


def test_a_faster_smaller_plan_is_said_beside_a_goodput_above_100_percent() -> None:
    est = estimate_training("gpt-oss-120b", NVL72, 576, tp=1, pp=1, ep=64, seq_len=8192, global_batch=4608,
                            dtype="mxfp8")
    run = training_run_totals(est, NVL72, 1e13)
    assert run.goodput_with_repairs > 1.0 > run.goodput  # the shrunk plan outruns the whole one
    line = _policy_line(run.notes)
    assert "the plan runs faster shrunk: on 448 GPUs its smaller plan gives 1.16x the whole plan's tokens a second" \
        in line
    assert "(`infraplan search`)" in line
    smaller = estimate_training("gpt-oss-120b", NVL72, 448, tp=1, pp=1, ep=64, seq_len=8192, global_batch=4928,
                                dtype="mxfp8")  # the busiest replica's 11 micro-batches, as shrunk_plan prices it
    share = smaller.tokens_per_s * 4608 / 4928 / est.tokens_per_s
    assert share == pytest.approx(1.16, abs=0.005)


def test_a_job_whose_smaller_plans_are_slower_says_nothing_more() -> None:
    est = estimate_training("llama3-70b", NVL72, 576, tp=4, pp=2, seq_len=8192, global_batch=576, dtype="fp8")
    run = training_run_totals(est, NVL72, 2e12)
    assert run.goodput_with_repairs < run.goodput
    assert "runs faster shrunk" not in _policy_line(run.notes)


def test_the_clause_reads_the_policy_dict() -> None:
    assert faster_note({"faster_shrunk": None}) == ""
    assert faster_note({"faster_shrunk": (1.2345, 1_024)}, "MTIA").startswith(
        "; the plan runs faster shrunk: on 1,024 MTIAs its smaller plan gives 1.23x")
