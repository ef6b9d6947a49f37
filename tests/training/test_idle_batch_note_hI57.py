"""A global batch too small to keep the GPUs busy is said, by `search` of its best plan and `train` of a hand plan
(`training.batch_idle_note`; hF57's leftover, hI, session 57).

`search deepseek-v3 --system gb200-nvl72 --gpus 512 --global-batch 1 --seq-len 4096` answered TP 64 x PP 8 at 0.5 %
MFU with no line saying that one sequence through 8 pipeline stages keeps 7 of them waiting. Checked failing before
(`git stash push -- src`): the module did not exist (the import fails), and neither command said anything of it.
"""

from __future__ import annotations

import json

import pytest

from infraplan.catalog.published_mfu import PublishedMfu
from infraplan.cli.main import main
from infraplan.training.batch_idle_note import idle_batch_notes
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

SEVENTY = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=8, pp=4, seq_len=4096,
               recompute="full")


def _idle(notes: list[str]) -> list[str]:
    return [n for n in notes if "keeps at most" in n]


def test_search_at_one_sequence_says_the_pipeline_waits() -> None:
    result = search_plans("deepseek-v3", "gb200-nvl72", 512, 4096, 1, top=1)
    assert result.best is not None
    config = result.best.config
    assert config.dp == 1 and config.micro_batches == 1 and config.tp * config.cp * config.pp == 512
    [note] = _idle(result.notes)
    busy = 512 // config.pp  # one micro-batch: one stage of TP x CP GPUs at a time
    assert note.startswith(f"global batch 1 sequence across 512 GPUs keeps at most {busy} of them busy")
    assert f"a global batch of {config.pp} sequences (DP 1 x micro-batch 1 x PP {config.pp})" in note
    assert f"MFU {result.best.mfu:.1%}" in note and "published ceiling of" in note


def test_train_of_the_hand_plan_says_the_same_note_as_search() -> None:
    result = search_plans("deepseek-v3", "gb200-nvl72", 512, 4096, 1, top=1)
    assert result.best is not None
    c = result.best.config
    est = estimate_training("deepseek-v3", "gb200-nvl72", 512, tp=c.tp, pp=c.pp, cp=c.cp, ep=c.ep, etp=c.etp,
                            vpp=c.vpp, seq_len=4096, global_batch=1, micro_batch=c.micro_batch, recompute=c.recompute,
                            zero=c.zero, dtype=c.dtype, order=c.order, schedule=c.schedule)
    assert len(_idle(est.notes)) == 1 and _idle(est.notes) == _idle(result.notes)


def test_a_pipeline_with_a_micro_batch_per_stage_gets_no_note() -> None:
    short = estimate_training(**SEVENTY, global_batch=4)  # DP 2, 2 micro-batches for 4 stages
    [note] = _idle(short.notes)
    assert note.startswith("global batch 4 sequences across 64 GPUs keeps at most 32 of them busy")
    assert "2 pipelines of TP 8 x CP 1 x PP 4" in note and "a global batch of 8 sequences" in note
    assert _idle(estimate_training(**SEVENTY, global_batch=8).notes) == []  # 4 micro-batches: every stage holds one
    no_pipeline = {**SEVENTY, "model": "llama3-8b", "gpus": 8, "pp": 1}  # TP 8, one sequence: no stage waits
    assert _idle(estimate_training(**no_pipeline, global_batch=1).notes) == []


def test_the_ceiling_is_compared_in_its_convention_and_zero_bubble_said() -> None:
    config = dict(pp=4, micro_batches=1, gpus=32, global_batch=1, dp=1, tp=8, cp=1, micro_batch=1, dtype="bf16",
                  schedule="zb-h1")
    ceiling = PublishedMfu(mfu=0.4, family="hopper", stack="megatron", dtype="bf16", source="s",
                           flop_convention="causal_scores")
    [note] = idle_batch_notes(config, 0.1, ceiling, 0.8)
    assert "keeps at most 8 of them busy" in note and "deferred weight-gradient passes" in note
    assert "MFU 10.0% (8.0% counting the causal half of the scores" in note and "(40.0%)" in note
    [plain] = idle_batch_notes({**config, "schedule": "1f1b"}, 0.1, None)
    assert "deferred" not in plain and "MFU 10.0%;" in plain


def test_the_cli_prints_it_and_the_json_carries_it(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["search", "deepseek-v3", "--system", "gb200-nvl72", "--gpus", "512", "--seq-len", "4096",
            "--global-batch", "1", "--top", "1"]
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    assert len(_idle(json.loads(capsys.readouterr().out)["notes"])) == 1
    assert main(args) == 0
    assert "global batch 1 sequence across 512 GPUs keeps at most" in " ".join(capsys.readouterr().out.split())
