"""In-run evaluation priced as forward-only passes at the run's plan (`training.forward_pass`; hM, session 55).

MLPerf Training's time to train is run_start -> run_stop, the evaluations included (measurements.md 4.1); the
MLPerf v3.0 GPT-3 cases state them (`evaluation:` in validation/cases/training.yaml) and the runner prices them.
Before this change `training.forward_pass` did not exist and the runner read no `evaluation:`: every test fails.
"""

from __future__ import annotations

import math

import pytest

from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.evaluation import evaluation_s, forward_batch_s, with_evaluation_rate
from infraplan.training.forward_pass import NO_EVAL_TRAFFIC, forward_only_terms
from infraplan.validation import runner
from infraplan.validation.runner import load_cases, run_case


def _case(case_id: str) -> dict:
    return next(c for c in load_cases() if c["id"] == case_id)


@pytest.fixture(scope="module")
def gpt3_512():
    case = _case("mlperf-v3.0-dgx-h100-512")
    plan = dict(case["plan"])
    point = resolve_training(case["model"], case["system"], case["gpus"], stack=case["stack"], **plan)
    step = estimate_training(case["model"], case["system"], case["gpus"], stack=case["stack"], **plan)
    return case, point, step


def test_forward_only_terms_drop_the_backward_and_the_step_traffic() -> None:
    terms = {"compute_fwd": 2.0, "compute_bwd": 4.0, "host_bwd": 1.0, "ep_fwd": 0.5, "ep_bwd": 1.0,
             "head_gpu_fwd": 3.0, "head_gpu_bwd": 6.0, "head_compute": 7.0, "head_other": 1.0, "head_tp": 1.0,
             "embed_gpu_fwd": 0.2, "embed_gpu_bwd": 0.8, "embed_other": 0.9, "embed_tp": 0.1,
             "compute_paired": 6.0, "ep_paired": 1.5, "p2p": 0.3, **dict.fromkeys(NO_EVAL_TRAFFIC, 9.0)}
    out = forward_only_terms(terms)
    assert all(out[k] == 0.0 for k in out if k.endswith("_bwd"))
    assert all(out[k] == 0.0 for k in NO_EVAL_TRAFFIC)
    assert (out["compute_paired"], out["ep_paired"]) == (2.0, 0.5)
    assert out["head_compute"] + out["head_other"] + out["head_tp"] == 3.0  # the head's forward, loss included
    assert out["embed_other"] + out["embed_tp"] == 0.2
    assert out["p2p"] == 0.3 and out["compute_fwd"] == 2.0


def test_a_forward_batch_is_about_a_third_of_the_training_step(gpt3_512) -> None:
    """Forward GEMMs are 1/3 of a layer's (no recompute): the batch's forward-only pass, bubble included, is
    0.30-0.36 of the step (the step also pays DP traffic and the optimizer the evaluation does not)."""
    _, point, step = gpt3_512
    forward = forward_batch_s(point, point.plan.one_row.micro_batches)
    assert 0.30 * step.step_time_s < forward < 0.36 * step.step_time_s


def test_an_evaluation_runs_whole_batches_then_the_micro_batches_the_rest_fills(gpt3_512) -> None:
    _, point, _ = gpt3_512
    row = point.plan.one_row  # GBS 2048 = 128 micro-batches x DP 16
    whole = forward_batch_s(point, row.micro_batches)
    assert evaluation_s(point, 2048) == pytest.approx(whole)
    assert evaluation_s(point, 2 * 2048 + 16 * 10) == pytest.approx(2 * whole + forward_batch_s(point, 10))
    assert forward_batch_s(point, 10) < whole / 5  # fewer micro-batches: less time, the fill and drain kept


def test_the_evaluation_follows_every_ceil_interval_over_batch_steps() -> None:
    # GBS 2688 (3,584 GPUs): ceil(24,576 / 2,688) = 10 steps between evaluations
    assert with_evaluation_rate(2.0, 2688, 5.0, 24576) == pytest.approx(20.0 / 25.0)
    assert with_evaluation_rate(2.0, 3072, 4.0, 24576) == pytest.approx(16.0 / 20.0)  # 8 steps
    assert with_evaluation_rate(2.0, 3072, 0.0, 24576) == 1.0


def test_the_interval_matches_every_mlperf_rows_tokens_trained() -> None:
    """measurements.md 4.2's tokens trained are whole numbers of ceil(24,576 / GBS) x GBS x 2,048-token evaluation
    periods (the rounding to whole steps the runner prices)."""
    for gbs, tokens in ((2688, 1.211e9), (3072, 1.258e9), (2048, 1.208e9), (1536, 1.208e9), (1536, 1.158e9)):
        period = math.ceil(24576 / gbs) * gbs * 2048
        assert abs(tokens / period - round(tokens / period)) < 0.01


def test_the_mlperf_rows_pay_their_evaluations_and_the_toggle_removes_them(monkeypatch) -> None:
    case = _case("mlperf-v3.0-dgx-h100-512")
    assert case["evaluation"] == {"interval_samples": 24576, "eval_samples": 11590}
    with_eval = run_case(case)
    monkeypatch.setattr(runner, "IN_RUN_EVALUATION", False)
    steps_only = run_case(case)
    share = with_eval.predicted / steps_only.predicted
    assert 0.80 < share < 0.92  # ~6 forward batches (~3.3 s each) against 12 steps (~10.1 s each)
    assert with_eval.predicted_mfu == steps_only.predicted_mfu  # the plan's MFU is its training steps'
    no_field = {k: v for k, v in case.items() if k != "evaluation"}
    monkeypatch.setattr(runner, "IN_RUN_EVALUATION", True)
    assert run_case(no_field).predicted == steps_only.predicted


def test_a_searched_row_prices_its_evaluation_at_its_found_plan(monkeypatch) -> None:
    case = _case("mlperf-v3.0-gaudi2-256")  # PP 1, ZeRO-3 under DeepSpeed: a forward-only batch per micro-batch
    with_eval = run_case(case)
    monkeypatch.setattr(runner, "IN_RUN_EVALUATION", False)
    steps_only = run_case(case)
    assert with_eval.plan == steps_only.plan
    assert 0.80 < with_eval.predicted / steps_only.predicted < 0.92
