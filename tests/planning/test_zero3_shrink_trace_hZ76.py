"""hZ76: why ZeRO-3's shrunk plans ran at less than ZeRO-2's (hS75 / hV75: llama3-70b fp8 on the 576-GPU GB200
SuperPOD under `--no-spare-policy shrink`, goodput with repairs 75.92 % for ZeRO-3's CP2 DP288 against 83.15 % for
ZeRO-2's). Traced term by term: not the re-gathers but whole micro-batches. ZeRO-3's memory lets the search run
micro-batch 2 on CP2 DP288 (ZeRO-2 at micro-batch 2 does not fit: 234 GB of 199), one micro-batch a replica
(576 / (2 x 288)); ZeRO-2 runs micro-batch 1, two a replica. A domain out leaves 252 replicas, and the global batch
576 kept (`planning.shrunk_plan`): ZeRO-3's busiest replica runs ceil(576 / (2 x 252)) = 2 micro-batches for the
plan's 1, its step twice as long (share 1/2), ZeRO-2's ceil(576 / 252) = 3 for 2 (share 2/3). ZeRO-3's own term,
the per-micro-batch re-gathers, moves 0.023 -> 0.044 s of a 3.73 s step. The shrunk plans are priced at the right
DP (252), ZeRO-3 sharded over the smaller plan's DP x CP, and at the plan's micro-batch (its memory: it fits)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.planning.search_run import ranked_note
from infraplan.planning.shrunk_plan import shrunk_speed
from infraplan.training.estimate import estimate_training

SYSTEM = "gb200-nvl72-superpod"
JOB = dict(seq_len=8192, global_batch=576, recompute="none", dtype="fp8", attention="flash", sequence_parallel=True,
           schedule="1f1b", stack="nemo-26.04", tp=1, pp=1, cp=2)


def _estimate(dp: int, micro_batch: int, zero: int, global_batch: int = 576) -> Any:
    job = {**JOB, "global_batch": global_batch}
    return estimate_training("llama3-70b", SYSTEM, dp * 2, dp=dp, micro_batch=micro_batch, zero=zero, **job)


@pytest.mark.parametrize(("micro_batch", "zero", "full_m", "busiest_m"), [(2, 3, 1, 2), (1, 2, 2, 3)])
def test_a_domain_out_adds_whole_micro_batches_to_the_busiest_replica(micro_batch: int, zero: int, full_m: int,
                                                                     busiest_m: int) -> None:
    """On 7 of 8 NVL72 domains (504 GPUs, 252 CP2 replicas) the shrunk plan runs the step of 252 x micro-batch x
    busiest sequences; its share of full speed is the full step over that step, ~ full_m / busiest_m."""
    full = _estimate(288, micro_batch, zero)
    assert full.config.micro_batches == full_m
    stepped = 252 * micro_batch * busiest_m  # 1,008 sequences for ZeRO-3's 2 x 2, 756 for ZeRO-2's 3 x 1
    shrunk = _estimate(252, micro_batch, zero, stepped)
    assert shrunk.config.micro_batches == busiest_m and shrunk.config.zero_shard == 504  # DP' x CP
    assert shrunk.fits
    assert shrunk.breakdown_s.compute == pytest.approx(full.breakdown_s.compute * busiest_m / full_m, rel=1e-3)
    share = shrunk_speed(full, SYSTEM)(504)
    assert share == pytest.approx(full.step_time_s / shrunk.step_time_s, rel=1e-12)
    assert share == pytest.approx(full_m / busiest_m, rel=5e-3)


def test_zero3s_re_gathers_are_a_small_part_of_its_shrunk_step() -> None:
    """ZeRO-3's own term grows with the micro-batches (NeMo gathers each micro-batch's weights again), but it is
    ~1 % of the shrunk step: the share's 1/2 is the micro-batches'."""
    full, shrunk = _estimate(288, 2, 3), _estimate(252, 2, 3, 1008)
    assert 0.02 < full.breakdown_s.dp_comm_exposed < 0.03
    assert shrunk.breakdown_s.dp_comm_exposed == pytest.approx(2.0 * full.breakdown_s.dp_comm_exposed, rel=0.1)
    assert shrunk.breakdown_s.dp_comm_exposed < 0.015 * shrunk.step_time_s


def _row(step: float, micro_batches: int) -> SimpleNamespace:
    return SimpleNamespace(step_time_s=step, config=SimpleNamespace(micro_batches=micro_batches))


def _run(days: float, goodput: float, policy: str = "shrink") -> SimpleNamespace:
    return SimpleNamespace(time_to_train_s=days * 86_400.0, goodput_with_repairs=goodput, no_spare_policy=policy)


def test_the_note_says_the_micro_batches_a_replica_where_they_differ() -> None:
    from infraplan.planning.search_run import shrunk_batches_clause  # (new in hZ76: the tests above pass without)

    rows = [_row(1.0, 1), _row(1.01, 4)]
    (line,) = ranked_note(rows, [1, 0], [_run(9.0, 0.9), _run(10.0, 0.8)])
    assert ("--no-spare-policy shrink; on fewer replicas the busiest runs a micro-batch more at least: the search's "
            "#1 runs 1 a replica (its micro-batches x2), #2 4 (x1.25)); the first 2") in line
    assert shrunk_batches_clause(rows[1], rows[0], 2, "wait") == ""  # (the job waits at full size)
    assert shrunk_batches_clause(_row(1.01, 1), rows[0], 2, "shrink") == ""


def test_the_fp8_jobs_search_says_why_its_zero3_first_runs_longer(capsys: pytest.CaptureFixture[str]) -> None:
    """The job of docs/facility.md: the search's #1 (TP1 DP576 ZeRO-3, micro-batch 1) runs 1 micro-batch a
    replica, its best run (#3, CP2 DP288 ZeRO-2, micro-batch 1) 2."""
    capsys.readouterr()
    argv = ["search", "llama3-70b", "--system", SYSTEM, "--gpus", "576", "--seq-len", "8192", "--global-batch", "576",
            "--dtype", "fp8", "--tokens", "2T", "--json"]
    assert cli_main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    (line,) = [n for n in answer["notes"] if n.startswith("--tokens:")]
    assert ("(goodput with repairs 83.15% against 75.92%, --no-spare-policy shrink; on fewer replicas the busiest "
            "runs a micro-batch more at least: the search's #1 runs 1 a replica (its micro-batches x2), #3 2 "
            "(x1.5))") in line
    first, best = answer["top"][2], answer["top"][0]  # (listed in their runs' order: #3, #5, #1, ...)
    assert (first["config"]["zero"], first["config"]["micro_batches"]) == (3, 1)
    assert (best["config"]["zero"], best["config"]["micro_batches"]) == (2, 2)
