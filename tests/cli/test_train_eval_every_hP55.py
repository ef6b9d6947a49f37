"""`train --tokens T --eval-every N --eval-samples S`: a run's periodic evaluation in its wall clock (hP, session 55).

The validation runner prices MLPerf's in-run evaluations (`training.evaluation`, hM55); a planned run could not: `train
--tokens` priced training steps only. Now the run pays the same forward-only evaluation after the same number of
steps (one at the end of every whole interval), folded once into the wall clock, GPU-hours, energy, CO2 and cost; the
run and the runner agree on the MLPerf v3.0 512-GPU case. Before this change --eval-every was "No such option"
(exit 2 on every call) and `training.evaluation` had no `evaluations_in_run` / `read_sequences`: every test fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun

from infraplan.training.evaluation import evaluations_in_run, read_sequences
from infraplan.validation.runner import load_cases, run_case

CASE_ID = "mlperf-v3.0-dgx-h100-512"
PERIOD_TOKENS = 12 * 2048 * 2048  # ceil(24,576 / GBS 2,048) = 12 steps of 2,048 sequences of 2,048 tokens
EVAL_KEYS = {"eval_every_sequences", "eval_every_steps", "eval_samples", "evaluations", "evaluation_s",
             "evaluation_time_s", "evaluation_share"}


def _case_args() -> list[str]:
    """`train` at the case's stated plan (validation/cases/training.yaml)."""
    case = next(c for c in load_cases() if c["id"] == CASE_ID)
    p = case["plan"]
    return ["train", case["model"], "--system", case["system"], "--gpus", str(case["gpus"]), "--stack", case["stack"],
            "--tp", str(p["tp"]), "--pp", str(p["pp"]), "--vpp", str(p["vpp"]), "--seq-len", str(p["seq_len"]),
            "--global-batch", str(p["global_batch"]), "--micro-batch", str(p["micro_batch"]),
            "--zero", str(p["zero"]), "--dtype", p["dtype"]]


def _json(cli: CliRun, args: list[str]) -> dict:
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def case() -> dict:
    return next(c for c in load_cases() if c["id"] == CASE_ID)


def test_the_run_and_the_runner_give_the_case_its_one_rate(cli: CliRun, case: dict) -> None:
    """24 whole intervals (MLPerf's 1.208 B tokens, measurements.md 4.2) at the case's plan and evaluation: the
    run's tokens over its failure-free wall clock, per GPU, is the runner's predicted rate (701.0 tokens/s)."""
    tokens = 24 * PERIOD_TOKENS
    ev = case["evaluation"]
    run = _json(cli, [*_case_args(), "--tokens", str(tokens), "--eval-every", str(ev["interval_samples"]),
                      "--eval-samples", str(ev["eval_samples"])])
    assert run["evaluations"] == 24 and run["eval_every_steps"] == 12 and run["eval_samples"] == 11590
    rate = tokens / (run["time_to_train_s"] * run["goodput"]) / case["gpus"]
    assert rate == pytest.approx(run_case(case).predicted, rel=1e-9)
    assert 680 < rate < 720  # the steps alone: 810 tokens/s per GPU


def test_the_evaluations_are_folded_into_every_total_once(cli: CliRun) -> None:
    base = [*_case_args(), "--tokens", str(24 * PERIOD_TOKENS)]
    plain, run = _json(cli, base), _json(cli, [*base, "--eval-every", "24576", "--eval-samples", "11590"])
    assert run["evaluation_time_s"] == pytest.approx(24 * run["evaluation_s"])
    assert run["time_to_train_s"] == pytest.approx((run["compute_time_s"] + run["evaluation_time_s"]) / run["goodput"])
    assert run["compute_time_s"] == pytest.approx(plain["compute_time_s"])
    assert run["evaluation_share"] == pytest.approx(run["evaluation_time_s"] / run["time_to_train_s"])
    ratio = run["time_to_train_s"] / plain["time_to_train_s"]
    assert ratio == pytest.approx(1 + run["evaluation_time_s"] / plain["compute_time_s"])  # goodput unchanged
    for key in ("gpu_hours", "energy_mwh", "co2_t", "cost_usd"):
        assert run[key] == pytest.approx(plain[key] * ratio), key
    assert run["gpu_hours"] == pytest.approx(512 * run["time_to_train_s"] / 3600)


def test_without_the_options_the_json_has_none_of_the_evaluation_keys(cli: CliRun) -> None:
    plain = _json(cli, [*_case_args(), "--tokens", "1.208B"])
    assert not EVAL_KEYS & set(plain)
    code, out, _ = cli([*_case_args(), "--tokens", "1.208B"])
    assert code == 0 and "evaluation" not in out


def test_the_text_shows_the_evaluations_and_their_share(cli: CliRun) -> None:
    code, out, err = cli([*_case_args(), "--tokens", "1.208B", "--eval-every", "50331648 tokens",
                          "--eval-samples", "11590"])
    assert code == 0, err
    assert "24 × 18.9 s (every 12 steps, 11,590 seqs)" in out
    assert "evaluation share" in out


@pytest.mark.parametrize("text", ["24576", "24.576k", "24576 sequences", "24576 samples", "50331648 tokens",
                                  "50.331648M tokens", "12 steps"])
def test_an_interval_reads_in_sequences_tokens_or_steps(text: str) -> None:
    assert read_sequences(text, "--eval-every", 2048, 2048) == 24576


def test_tokens_round_up_to_whole_sequences() -> None:
    assert read_sequences("1 tokens", "--eval-samples", 2048, 2048) == 1
    assert read_sequences("2049 tokens", "--eval-samples", 2048, 2048) == 2


def test_a_run_pays_one_evaluation_per_whole_interval() -> None:
    assert evaluations_in_run(24 * PERIOD_TOKENS, 2048 * 2048, 12) == 24
    assert evaluations_in_run(24.5 * PERIOD_TOKENS, 2048 * 2048, 12) == 24
    assert evaluations_in_run(0.9 * PERIOD_TOKENS, 2048 * 2048, 12) == 0


@pytest.mark.parametrize(("extra", "needle"), [
    (["--tokens", "1B", "--eval-every", "0", "--eval-samples", "100"], "--eval-every must be positive"),
    (["--tokens", "1B", "--eval-every", "-5", "--eval-samples", "100"], "--eval-every takes a count"),
    (["--tokens", "1B", "--eval-every", "100", "--eval-samples", "0 steps"], "--eval-samples must be positive"),
    (["--tokens", "1B", "--eval-every", "100", "--eval-samples", "12 parsecs"], "--eval-samples takes a count"),
    (["--tokens", "1B", "--eval-samples", "100"], "--eval-samples needs --eval-every"),
    (["--tokens", "1B", "--eval-every", "100"], "--eval-every needs --eval-samples"),
    (["--eval-every", "100", "--eval-samples", "100"], "need --tokens"),
])
def test_bad_evaluation_options_are_one_line_and_exit_2(cli: CliRun, extra: list[str], needle: str) -> None:
    code, out, err = cli(["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8",
                          "--seq-len", "8192", "--global-batch", "64", *extra])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert needle in err


def test_the_web_train_prices_the_same_run(cli: CliRun) -> None:
    from infraplan.web.requests import TrainRequest
    from infraplan.web.runners import run_train

    args = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len", "8192",
            "--global-batch", "64", "--tokens", "1B", "--eval-every", "5M tokens", "--eval-samples", "2 steps"]
    request = TrainRequest(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=8, seq_len=8192,
                           global_batch=64, tokens="1B", eval_every="5M tokens", eval_samples="2 steps")
    web = json.loads(run_train(request).to_json())
    assert web == _json(cli, args)
    assert web["eval_every_steps"] == 10 and web["eval_samples"] == 128  # ceil(611 / 64) steps; 2 x 64 sequences
    assert "--eval-every '5M tokens'" in request.cli()


def test_the_evaluation_fields_carry_a_unit_or_are_listed_unitless() -> None:
    """`train --tokens` is outside test_schema's unit check (its older fields predate it); its new fields are not."""
    from tests.cli.test_schema import UNIT_SUFFIXES, UNITLESS

    from infraplan.planning.results import TrainingRunTotals

    assert set(TrainingRunTotals.model_fields) >= EVAL_KEYS
    assert all(k in UNITLESS or k.endswith(UNIT_SUFFIXES) for k in EVAL_KEYS)


def test_no_module_grew_past_the_limit() -> None:
    root = Path(__file__).parents[2] / "src" / "infraplan"
    for name in ("training/evaluation.py", "planning/training_run.py", "web/requests.py", "cli/commands/train.py"):
        assert len((root / name).read_text(encoding="utf-8").splitlines()) <= 400, name
