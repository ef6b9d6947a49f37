"""Megatron-Core runs no TP userbuffer overlap on an MLA model (`training.tp_overlap.MLA_DISABLES_USERBUFFERS`, hM
session 58): its TELinear switches the shared config's `tp_comm_overlap` off at MLA's `q_down_proj` buffer name
(megatron-core 0.16.1 extensions/transformer_engine.py:531-541), so a DeepSeek-V3 plan on a stack with overlap prices
as the same stack with the overlap (and its SMs) at 0; a dense model keeps the stack's overlap. Checked failing before
the change: on the base tree the DeepSeek-V3 TP2 step with the stack's 0.8 overlap is 25.585 s against 26.050 s with
it at 0 (`test_mla_plan_prices_as_the_stack_without_userbuffers`); the dense guard passes there too."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.training import tp_overlap
from infraplan.training.estimate import estimate_training
from infraplan.training.tp_overlap import userbuffer_overlap

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (a test patches the toggle)
NO_OVERLAP = {"tp_comm_overlap_fraction": 0.0, "tp_overlap_sm_fraction": 0.0}


def _step(model: str, stack_update: dict[str, object] | None = None, **plan: object) -> float:
    stack = load_stack("nemo-26.04")
    if stack_update:
        stack = stack.model_copy(update=stack_update)
    return estimate_training(model, "dgx-h100-superpod", stack=stack, **plan).step_time_s  # type: ignore[arg-type]


V3_PLAN = {"gpus": 256, "tp": 2, "pp": 1, "ep": 32, "seq_len": 4096, "global_batch": 256, "dtype": "fp8",
           "recompute": "full"}


def test_the_rule_reads_the_model_and_the_stack_family() -> None:
    nemo = load_stack("nemo-26.04")
    assert userbuffer_overlap(nemo, load_model("deepseek-v3")) == (0.0, 0.0)
    assert userbuffer_overlap(nemo, load_model("llama3-70b")) == (0.8, 0.12)
    other = nemo.model_copy(update={"stack_class": "torchtitan"})  # not Megatron-Core's TELinear: the stack's own
    assert userbuffer_overlap(other, load_model("deepseek-v3")) == (0.8, 0.12)


def test_mla_plan_prices_as_the_stack_without_userbuffers() -> None:
    on = _step("deepseek-v3", **V3_PLAN)
    off = _step("deepseek-v3", NO_OVERLAP, **V3_PLAN)
    assert on == pytest.approx(off, rel=1e-12)


def test_toggle_off_restores_the_stacks_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tp_overlap, "MLA_DISABLES_USERBUFFERS", False)
    assert userbuffer_overlap(load_stack("nemo-26.04"), load_model("deepseek-v3")) == (0.8, 0.12)
    on = _step("deepseek-v3", **V3_PLAN)
    off = _step("deepseek-v3", NO_OVERLAP, **V3_PLAN)
    assert on < off  # the userbuffers hide TP time (as before hM58)


def test_dense_model_keeps_the_overlap() -> None:
    plan = {"gpus": 64, "tp": 8, "pp": 1, "seq_len": 4096, "global_batch": 64, "dtype": "bf16"}
    assert _step("llama3-70b", **plan) < _step("llama3-70b", NO_OVERLAP, **plan)
