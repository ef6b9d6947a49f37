"""hG (session 56): `train --tokens` of a plan that does not fit memory says, in the run's notes, that its wall clock,
GPU-hours, energy and cost are a plan's that cannot run. `train deepseek-v3 --system h800 --gpus 2048 --seq-len 4096
--global-batch 16384 --tokens 14.8T` (TP1 PP1 EP1 by default: 2.52 TiB a GPU of 79.6 GiB) priced "118 days, 5.81 M
GPU-h, $7.13 M" under the run table with no line there, the "fits: NO" only in the step table above it (the
project keeps a plan that does not fit as an answer: product_review_tried.md, hC53). A plan that fits has no line."""

from __future__ import annotations

from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training


def test_a_run_of_a_plan_that_does_not_fit_says_so() -> None:
    estimate = estimate_training("llama3-70b", "dgx-h100-superpod", 8, tp=1, pp=1, seq_len=4096, global_batch=2048)
    assert not estimate.fits
    notes = training_run_totals(estimate, "dgx-h100-superpod", 1e12).notes
    line = [n for n in notes if n.startswith("the plan does not fit")]
    assert len(line) == 1
    assert f"{estimate.memory_overflow_term} is the largest term" in line[0]
    assert "cannot run" in line[0] and "infraplan search" in line[0]


def test_a_run_of_a_plan_that_fits_says_nothing() -> None:
    estimate = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, seq_len=2048, global_batch=8)
    notes = training_run_totals(estimate, "dgx-h100-superpod", 1e12).notes
    assert not any(n.startswith("the plan does not fit") for n in notes)
