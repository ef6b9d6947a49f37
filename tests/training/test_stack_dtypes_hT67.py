"""The precisions the older stacks train in (hT, session 67; a user's walk of `train` / `search`): only meta-llama3
named its `dtypes`, so `search --stack megatron-lm-2021` on H100 proposed fp8 plans and `train --stack nemo-24.12
--dtype nvfp4` on B200 priced a plan its Transformer Engine 1.x has no recipe for, without a word. Megatron-LM
2021 / 2022 train in 16-bit only (A100, before Transformer Engine), megatron-core 0.8, NeMo 23.05 and 24.12 in bf16
and per-tensor fp8 (TE's DelayedScaling; MXFP8 / NVFP4 are TE 2.x recipes): `train` outside them says so,
`search` does not propose them, an asked one is one line and exit 2 (`training.stack_limits`)."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.cli import main
from infraplan.training.search import search_plans

OLDER = {"megatron-lm-2021": ("bf16",), "megatron-lm-2022": ("bf16",), "megatron-core-0.8": ("bf16", "fp8"),
         "nemo-23.05": ("bf16", "fp8"), "nemo-24.12": ("bf16", "fp8")}


@pytest.mark.parametrize(("stack", "dtypes"), sorted(OLDER.items()))
def test_each_older_stack_names_its_precisions_with_a_source(stack: str, dtypes: tuple[str, ...]):
    profile = load_stack(stack)
    assert profile.dtypes == dtypes and profile.dtypes_source


def test_a_search_under_the_2021_stack_proposes_bf16_plans_only():
    found = search_plans("llama3-8b", "dgx-h100-superpod", 16, 4096, 64, dtype="auto", top=5,
                         stack="megatron-lm-2021")
    assert found.top and {row.config.dtype for row in found.top} == {"bf16"}


def test_train_in_mxfp8_under_nemo_24_12_says_its_outside_the_stack(capsys: pytest.CaptureFixture[str]):
    args = ["train", "llama3-8b", "--system", "dgx-b200", "--gpus", "8", "--seq-len", "4096", "--global-batch", "64",
            "--dtype", "mxfp8", "--json"]
    assert main([*args, "--stack", "nemo-24.12"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any(n.startswith("precision outside the stack: nemo-24.12 trains in bf16, fp8, not mxfp8") for n in notes)
    assert main([*args, "--stack", "nemo-26.04"]) == 0  # the stack whose TE 2.x runs MXFP8: no such note
    assert not any("precision outside the stack" in n for n in json.loads(capsys.readouterr().out)["notes"])


def test_search_asked_for_nvfp4_under_megatron_core_0_8_is_one_line(capsys: pytest.CaptureFixture[str]):
    code = main(["search", "llama3-8b", "--system", "dgx-b200", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "64", "--dtype", "nvfp4", "--stack", "megatron-core-0.8", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--dtype nvfp4: stack megatron-core-0.8 trains in bf16, fp8" in err
