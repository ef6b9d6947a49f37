"""A stack whose layer terms read ZeRO (meta-llama3: Megatron's unfused wgrad accumulation copies into a ZeRO-3
gradient buffer and adds into the others', `main_grad_accumulation.unfused_main_grad_bytes`) priced per ZeRO stage
(hZ, session 52; `main_grad_accumulation.layer_reads_zero`). Before: the search, which broadcasts ZeRO over the layer
terms, priced a ZeRO-3 plan at ZeRO-0's add (0.932975 s where `train` prices 0.925280 s, +0.83 %), and `train` itself
did after pricing a ZeRO-1 plan of the same layer keys in the same process (the one-plan memo keyed without ZeRO)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from typer.testing import CliRunner

from infraplan.catalog.stacks import resolve_stack
from infraplan.cli.main import app
from infraplan.training.estimate import estimate_training
from infraplan.training.main_grad_accumulation import layer_reads_zero, least_work_zero
from infraplan.training.one_plan_memo import clear_one_plan_memo

PLAN = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=64, tp=1, pp=4, vpp=5, seq_len=4096,
            global_batch=128, micro_batch=2, recompute="none", stack="meta-llama3", schedule="interleaved",
            dtype="bf16")


def test_which_stacks_read_zero() -> None:
    assert layer_reads_zero(resolve_stack("meta-llama3", "training"))
    assert least_work_zero(resolve_stack("meta-llama3", "training")) == 3
    for name in ("nemo-26.04", "torchtitan", "deepspeed", "megatron-core-0.8"):
        assert not layer_reads_zero(resolve_stack(name, "training")), name
        assert least_work_zero(resolve_stack(name, "training")) == 0


def test_train_does_not_depend_on_what_it_priced_before() -> None:
    clear_one_plan_memo()
    fresh = estimate_training(**PLAN, zero=3).step_time_s
    clear_one_plan_memo()
    estimate_training(**PLAN, zero=1)
    after = estimate_training(**PLAN, zero=3).step_time_s
    assert after == fresh
    assert estimate_training(**PLAN, zero=1).step_time_s < fresh  # (the add moves more bytes than the copy ...)


def _json(args: list[str]) -> dict[str, Any]:
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)  # type: ignore[no-any-return]


def test_search_top_ten_equal_train_on_meta_llama3() -> None:
    """Every row of the search's first ten, re-priced by `train` from its own printed command, to 1e-9 (ZeRO-3
    rows among them: those that differed)."""
    found = _json(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "64", "--seq-len", "4096",
                   "--global-batch", "128", "--top", "10", "--stack", "meta-llama3", "--dtype", "bf16"])
    rows = found["top"]
    assert len(rows) == 10 and any(r["config"]["zero"] == 3 for r in rows)
    for row in rows:
        args = shlex.split(row["train_command"])
        assert args[:2] == ["infraplan", "train"]
        again = _json(args[1:])
        assert abs(again["step_time_s"] / row["step_time_s"] - 1.0) <= 1e-9, row["train_command"]
