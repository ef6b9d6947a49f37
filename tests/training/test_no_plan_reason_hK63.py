"""`search`'s reason where no candidate layout is valid (hK63, `training.no_plan_reason`): the binding rule (the one
refusing the most candidates alone) with its source, what the batch asks of each sequence's ranks, and the changes
that give valid plans, each probed on the same rules. hL62's open item: DeepSeek-V3.2's warm-up as its report ran it
(16 sequences of 128K, recalled) on 256 H800 said only that DP must divide the global batch."""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main
from infraplan.training.no_plan_reason import binding_rule, why_no_plan
from infraplan.training.search import no_valid_plan_reason, search_plans

WARMUP = {"model": "deepseek-v3.2", "system": "h800", "gpus": 256, "seq_len": 4096, "global_batch": 16, "dtype": "fp8",
          "dsa_stage": "warmup"}
DUALPIPE = "the dualpipe pipeline schedule needs an even number of micro-batches per step, at least 2 PP"


def test_the_warmup_on_deepseek_s_stack_names_dualpipe_and_what_gives_a_plan() -> None:
    """Stack deepseek-v3 (DualPipe only, no CP): TP <= 8 leaves PP >= 2 for each sequence's 16 GPUs, and DualPipe's
    rule (deepseek-ai/DualPipe 1.0.0 dualpipe.py:333) refuses one micro-batch a step; each change named has a plan."""
    result = search_plans(**WARMUP, stack="deepseek-v3")
    assert result.best is None and result.reason is not None
    assert result.reason.startswith("no valid plan for 256 GPUs with global batch 16: 16 sequences on 256 GPUs need "
                                    "TP x CP x PP >= 16 for each (TP <= 8, CP 1: the stack runs none); every one of "
                                    "the ")
    assert "candidate layouts breaks a rule, " in result.reason and f"this one alone: {DUALPIPE}" in result.reason
    assert result.reason.endswith("; valid plans at 128 GPUs or with --cross-node-tp or at a global batch of 32")
    changed = [search_plans(**{**WARMUP, "gpus": 128}, stack="deepseek-v3", top=1),
               search_plans(**WARMUP, stack="deepseek-v3", top=1, cross_node_tp=True),
               search_plans(**{**WARMUP, "global_batch": 32}, stack="deepseek-v3", top=1)]
    assert all(r.best is not None for r in changed)


def test_the_warmup_on_megatron_names_dsa_s_cp_refusal() -> None:
    """nemo-26.04 (megatron-core 0.16.1): the candidates at CP > 1 alone refused by DSA (transformer_config.py:
    1987-1990, the stack's sparse_attention_source, quoted); the CP clause says DSA runs none there."""
    result = search_plans(**WARMUP, stack="nemo-26.04")
    assert result.reason is not None and result.best is None
    assert "(TP <= 8, CP 1: DeepSeek Sparse Attention runs none on this stack)" in result.reason
    assert "this one alone: DeepSeek Sparse Attention does not run with context parallelism" in result.reason
    assert "transformer_config.py:1987-1990" in result.reason


def test_a_batch_no_degree_divides_keeps_its_line() -> None:
    """No candidate enumerated (every DP degree carries 1,152's factor 9): hU53's line, unchanged."""
    result = search_plans("deepseek-v3", "gb200", 1152, 4096, 15360)
    assert result.reason == no_valid_plan_reason(1152, 15360)


def test_the_binding_rule_is_none_where_a_plan_is_valid() -> None:
    from infraplan.catalog import load_model
    from infraplan.training.axes import SearchSpace
    from infraplan.training.enums import Dtype, Recompute
    from infraplan.training.optimizers import training_stack

    shape = load_model("deepseek-v3.2")
    profile = training_stack("deepseek-v3", shape, None)
    space = SearchSpace(shape, 128, 4096, 16, (Dtype.parse("fp8", "--dtype"),), 8, 16, (), (0, 1), False, (0, 1),
                        recompute=(int(Recompute.NONE),))
    assert binding_rule(shape, profile, space) is None
    assert why_no_plan(shape, profile, space, False, "lead") == "lead"


def test_the_cli_says_it_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """The report's warm-up (16 x 128K) on 256 H800: one line and the JSON's reason the same; exit 0 with `best` null,
    as every search with no plan (hU53: a question with no answer, not bad input)."""
    args = ["search", "deepseek-v3.2", "--system", "h800", "--gpus", "256", "--seq-len", "131072", "--global-batch",
            "16", "--dtype", "fp8", "--dsa-stage", "warmup", "--stack", "deepseek-v3"]
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    reason = json.loads(capsys.readouterr().out)["reason"]
    assert DUALPIPE in reason and "valid plans at 128 GPUs" in reason
    assert main(args) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("no feasible plan for deepseek-v3.2 on h800-generic-256 (256 GPUs, stack deepseek-v3): ")
    assert reason in first
