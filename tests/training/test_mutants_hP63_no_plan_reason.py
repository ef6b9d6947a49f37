"""hP63 mutation wave on `training.no_plan_reason` (hK63): the reason's numbers and each probed change checked against
hand computations from the inputs, not the module's output.

The hand rule used (stack deepseek-v3: DualPipe only, no CP, TP <= the 8-GPU scale-up domain): a layout of G GPUs is
TP x PP x DP with DP dividing the global batch B. At PP = 1 it runs where some TP <= 8 gives DP = G / TP dividing B;
at PP > 1 DualPipe needs B / DP >= 2 PP micro-batches a step (deepseek-ai/DualPipe 1.0.0 dualpipe/dualpipe.py:333,
`num_chunks >= num_ranks * 2`), i.e. B >= 2 G / TP."""

from __future__ import annotations

import re

from infraplan.catalog import load_model
from infraplan.training.axes import SearchSpace
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.no_plan_reason import BATCH_DOUBLINGS, probe_changes, why_no_plan
from infraplan.training.optimizers import training_stack
from infraplan.training.search import search_plans

WARMUP = {"model": "deepseek-v3.2", "system": "h800", "seq_len": 4096, "dtype": "fp8", "dsa_stage": "warmup",
          "stack": "deepseek-v3"}


def _space(gpus: int, batch: int, max_tp: int) -> SearchSpace:
    shape = load_model("deepseek-v3.2")
    return SearchSpace(shape, gpus, 4096, batch, (Dtype.parse("fp8", "--dtype"),), max_tp, 16,
                       (int(Schedule.DUALPIPE),), (0, 1), False, (0, 1))


def test_the_changes_are_the_first_that_pass_a_rule_given_by_hand() -> None:
    """`probe_changes` against validity rules written here: the largest G / 2^k, TP over all the GPUs, the smallest
    2^k B with k <= 6 (the docstring's "2x ... 64x the asked one")."""
    space = _space(128, 16, 8)
    assert probe_changes(lambda s: s.gpus <= 32 and s.global_batch == 16 and s.max_tp == 8, space, False) == [
        "at 32 GPUs"]  # 64 fails, 32 passes: not 16 (a halving skipped)
    assert probe_changes(lambda s: s.gpus == 128 and s.max_tp >= 128, space, False) == ["with --cross-node-tp"]
    assert probe_changes(lambda s: s.max_tp == 128, space, False) == ["with --cross-node-tp"]  # TP over all 128
    assert BATCH_DOUBLINGS == 6
    assert probe_changes(lambda s: s.global_batch >= 64 * 16, space, False) == ["at a global batch of 1,024"]
    assert probe_changes(lambda s: s.global_batch >= 128 * 16, space, False) == []  # 128x is beyond the probe
    assert probe_changes(lambda s: s.global_batch == 4 * 16, space, False) == ["at a global batch of 64"]


def test_512_h800_at_16_sequences_by_hand() -> None:
    """G 512, B 16: PP 1 needs DP = 512 / TP >= 64, dividing no 16; PP > 1 needs 16 >= 2 x 512 / 8 = 128: no plan.
    256 GPUs: DP >= 32 divides no 16, 16 < 64; 128: TP 8 DP 16 runs. TP 512-wide: DP 1 runs. B 32: DP >= 64 divides
    no 32, 32 < 128; B 64: TP 8 DP 64 runs. 512 / 16 = 32 GPUs for each sequence."""
    result = search_plans(**WARMUP, gpus=512, global_batch=16)
    assert result.best is None and result.reason is not None
    assert "need TP x CP x PP >= 32 for each (TP <= 8, CP 1: the stack runs none)" in result.reason
    assert result.reason.endswith("valid plans at 128 GPUs or with --cross-node-tp or at a global batch of 64")


def test_the_ranks_each_sequence_needs_round_up() -> None:
    """G 256, B 24: 256 / 24 = 10.7 GPUs a sequence, so 11 at least. 128 GPUs: DP 16 divides no 24, 24 < 2 x 128 /
    8; 64: TP 8 DP 8 runs. B 48: DP 32 divides no 48, 48 < 64; B 96: DP 32 runs."""
    result = search_plans(**WARMUP, gpus=256, global_batch=24)
    assert result.reason is not None
    assert "24 sequences on 256 GPUs need TP x CP x PP >= 11 for each" in result.reason
    assert result.reason.endswith("valid plans at 64 GPUs or with --cross-node-tp or at a global batch of 96")


def test_two_gpus_a_sequence_is_said() -> None:
    """G 32, B 16, TP <= 1: DP 32 divides no 16, and DP 16 / PP 2 feeds 1 < 4 micro-batches (DP 8 / PP 4: 2 < 8, ...):
    no plan; 32 / 16 = 2 GPUs a sequence. 16 GPUs: DP 16 runs; TP 2 (cross-node): DP 16 runs; B 32: DP 32 runs."""
    shape = load_model("deepseek-v3.2")
    profile = training_stack("deepseek-v3", shape, None)
    line = why_no_plan(shape, profile, _space(32, 16, 1), False, "lead")
    assert line.startswith("no valid plan for 32 GPUs with global batch 16: 16 sequences on 32 GPUs need TP x CP x "
                           "PP >= 2 for each (TP <= 1, CP 1: the stack runs none); ")
    assert line.endswith("valid plans at 16 GPUs or with --cross-node-tp or at a global batch of 32")


def test_the_rule_alone_refuses_fewer_than_all() -> None:
    """G 256, B 16, TP <= 8: DP divides 16, so PP = 256 / (TP x DP) >= 2 for every layout and DualPipe refuses each;
    but PP reaches 256 / (1 x 1) = 256 > the model's 61 layers, so some layouts break a layer-split rule too and are
    not DualPipe's alone: the count said alone is below the candidates'."""
    result = search_plans(**WARMUP, gpus=256, global_batch=16)
    assert result.reason is not None
    got = re.search(r"every one of the ([\d,]+) candidate layouts breaks a rule, ([\d,]+) this one alone",
                    result.reason)
    assert got is not None
    total, alone = (int(g.replace(",", "")) for g in got.groups())
    assert 0 < alone < total


def test_a_space_with_a_plan_has_no_reason_even_under_the_fewer_gpus_probe() -> None:
    """The probe's own validity: 128 GPUs at 16 sequences runs (TP 8 DP 16), so `why_no_plan` gives the lead line."""
    shape = load_model("deepseek-v3.2")
    profile = training_stack("deepseek-v3", shape, None)
    assert why_no_plan(shape, profile, _space(128, 16, 8), False, "lead") == "lead"


def test_a_recompute_mode_is_not_a_layout() -> None:
    """The warm-up searches recompute none alone, the sparse stage every mode (`search.WARMUP_RECOMPUTE`); the
    layouts (TP, PP, DP, EP, micro-batch, schedule, ZeRO) are the same, so both reasons count the same candidates."""
    def count(stage: str) -> str:
        reason = search_plans(**{**WARMUP, "dsa_stage": stage}, gpus=256, global_batch=16).reason
        assert reason is not None
        got = re.search(r"every one of the ([\d,]+) candidate layouts", reason)
        assert got is not None
        return got.group(1)

    assert count("sparse") == count("warmup")
