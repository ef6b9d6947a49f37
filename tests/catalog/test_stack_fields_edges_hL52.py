"""A stack's new fields (session 52) set where the model does not read them as written (hL, session 52): each
test failed before (checked on the tree without the validators in `catalog.stacks`): a stack listing an
`unfused_elementwise` operation twice was accepted and `ops.eager_passes` priced its passes twice (an uploaded
`[rmsnorm, rmsnorm, rmsnorm]` through POST /api/train: 200), and `grad_accumulation_bytes` on a Megatron-class stack
was ignored, silently (`training.main_grad_accumulation.unfused_main_grad_bytes` reads it on other classes only)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError


def test_a_stack_listing_an_operation_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("extends: torchtitan\nunfused_elementwise: [rmsnorm, rotary, rmsnorm]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unfused_elementwise: lists rmsnorm more than once"):
        load_stack(str(path))
    once = tmp_path / "once.yaml"
    once.write_text("extends: torchtitan\nunfused_elementwise: [rmsnorm, rotary]\n", encoding="utf-8")
    assert load_stack(str(once)).unfused_elementwise == ("rmsnorm", "rotary")


def test_grad_accumulation_bytes_on_a_megatron_stack_is_refused(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nemo-ga.yaml"
    path.write_text("extends: nemo-26.04\ngrad_accumulation_bytes: 18\n", encoding="utf-8")
    args = shlex.split(f"train llama3-8b --system h100-sxm --gpus 8 --seq-len 4096 --global-batch 8 --stack {path}")
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "grad_accumulation_bytes is priced for non-Megatron stacks only" in err
    other = tmp_path / "ds-ga.yaml"  # DeepSpeed's own class reads it
    other.write_text("extends: deepspeed\ngrad_accumulation_bytes: 18\n", encoding="utf-8")
    assert load_stack(str(other)).grad_accumulation_bytes == 18.0
    with pytest.raises(InputError, match="grad_accumulation_bytes"):
        load_stack(str(path))
