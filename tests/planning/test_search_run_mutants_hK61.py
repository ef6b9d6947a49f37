"""Mutant-killing checks of `planning.search_run` (hK, session 61): the best row re-estimated as `train` of its
command keeps every axis the row names (an MoE row's expert TP, which the stack's default does not give) and the
search's --sharp, and `search --tokens` with a stack file prices the run under that file, as its train_command does."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.planning.search_run import best_plan_estimate
from infraplan.training.estimate import estimate_training

# Mixtral on nemo-26.04: its default expert TP is TP (8); ETP 1 is a different, faster plan
MOE = dict(model="mixtral-8x7b", system="dgx-h100-superpod", gpus=64, tp=8, pp=1, dp=8, ep=8, seq_len=4096,
           global_batch=256, micro_batch=16, zero=2, dtype="fp8", stack="nemo-26.04")
# Llama 3 70B at PP 4: nemo-26.04 interleaves 10 chunks a rank by default; VPP 2 is another plan
PIPE = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=4, pp=4, dp=4, seq_len=4096, global_batch=256,
            micro_batch=1, stack="nemo-26.04")
# Llama 3 8B on one node: 4 layers' activations offloaded to the host (hidden in the step, not in memory)
ONE = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=1, pp=1, dp=8, seq_len=4096, global_batch=64,
           stack="nemo-26.04")
# Llama 3 8B over 32 nodes, one sequence a GPU: the DP all-reduce is exposed, so SHARP moves the step
WIDE = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=256, tp=1, pp=1, dp=256, seq_len=1024,
            global_batch=256, zero=0, stack="nemo-26.04")


@pytest.mark.parametrize(("plan", "asked"), [(MOE, {"etp": 1}), (WIDE, {"sharp": True}), (PIPE, {"vpp": 2}),
                                              (ONE, {"offload_layers": 4})])
def test_the_best_rows_estimate_is_train_of_the_row(plan: dict[str, object], asked: dict[str, object]) -> None:
    """`best_plan_estimate` of a row is `estimate_training` of every axis the row names, the search's --sharp too:
    each asked axis here changes the step or the memory from the stack's default, so dropping one shows."""
    row = estimate_training(**plan, **asked)  # type: ignore[arg-type]
    plain = estimate_training(**plan)  # type: ignore[arg-type]
    assert (plain.step_time_s, plain.memory_per_gpu_bytes) != (row.step_time_s, row.memory_per_gpu_bytes)
    again = best_plan_estimate(str(plan["model"]), str(plan["system"]), row, str(plan["stack"]),  # type: ignore[arg-type]
                               bool(asked.get("sharp", False)), None, None, None)
    assert again.config == row.config
    assert (again.step_time_s, again.memory_per_gpu_bytes) == (row.step_time_s, row.memory_per_gpu_bytes)


@pytest.mark.parametrize("asked", [["--stack", "FILE"], ["--lora-rank", "16", "--lora-targets", "all"]])
def test_search_tokens_is_train_of_its_command(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               asked: list[str]) -> None:
    """With a stack file (the search's result names the file's profile, the command the file) and with LoRA
    adapters on every linear layer (not the default: the attention), `search --tokens` prices the run `train` of
    the best row's command prices."""
    path = tmp_path / "mine.yaml"
    path.write_text("extends: nemo-26.04\nname: mine\n")
    search = ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
              "--global-batch", "64", "--top", "1", *(str(path) if a == "FILE" else a for a in asked),
              "--tokens", "10B"]
    found = cli_json(capsys, search)
    assert found["best_run"] is not None
    train = cli_json(capsys, [*shlex.split(found["best"]["train_command"])[1:], "--tokens", "10B"])
    assert found["best_run"] == train
