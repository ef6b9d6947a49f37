"""hS73: a single estimate reads its stack's pipeline split rule from the stack's kept constants
(`training.estimate._stack_constants`, by the stack's identity) instead of parsing the stack's layouts again (~4 us an
estimate); and `benchmarks/single_estimate.py` times the `train` process with its bytecode cached."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import infraplan.training.estimate as estimate_module
from infraplan.catalog.loader import list_presets
from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import _stack_constants, estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.pipeline_split_rule import pipeline_split_rule

PLAN = dict(tp=8, pp=16, vpp=8, seq_len=8192, global_batch=2048, zero=3)
TRAINING_STACKS = [name for name in list_presets("stacks") if load_stack(name).kind == "training"]


def _same_rule(kept: object, fresh: object) -> None:
    assert kept == fresh
    assert type(kept) is type(fresh)
    assert getattr(kept, "models", None) == getattr(fresh, "models", None)  # OthersLaidOut's refusal text
    assert getattr(kept, "stack", None) == getattr(fresh, "stack", None)


@pytest.mark.parametrize("name", TRAINING_STACKS)
def test_kept_rule_is_the_stacks_rule(name: str) -> None:
    stack = load_stack(name)
    _same_rule(_stack_constants(stack)[2], pipeline_split_rule(stack))
    assert _stack_constants(stack)[2] is _stack_constants(stack)[2]  # kept, not built again


def test_some_stack_has_a_rule() -> None:
    """The kept rule is not trivially None everywhere (the default stack's even split is laid out)."""
    assert any(pipeline_split_rule(load_stack(name)) is not None for name in TRAINING_STACKS)


def test_a_changed_stack_gets_its_own_rule() -> None:
    stack = load_stack("nemo-26.04")
    assert pipeline_split_rule(stack) is not None
    loose = stack.model_copy(update={"pipeline_split_divisible": False})  # a new object: any layer count taken
    assert _stack_constants(loose)[2] is None
    assert pipeline_split_rule(loose) is None
    _same_rule(_stack_constants(stack)[2], pipeline_split_rule(stack))


def test_a_new_plan_on_a_kept_stack_parses_no_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **PLAN)  # the stack's constants kept
    calls: list[object] = []

    def counted(stack: object) -> object:
        calls.append(stack)
        return pipeline_split_rule(stack)  # type: ignore[arg-type]

    monkeypatch.setattr(estimate_module, "pipeline_split_rule", counted)
    clear_one_plan_memo()
    kept = estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **{**PLAN, "seq_len": 4096})
    assert calls == []
    monkeypatch.setattr(estimate_module, "_STACK_CONSTANTS", type(estimate_module._STACK_CONSTANTS)(64))
    clear_one_plan_memo()
    fresh = estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **{**PLAN, "seq_len": 4096})
    assert len(calls) == 1  # an empty memo builds it once
    assert kept.to_json() == fresh.to_json()


def test_a_refused_split_is_refused_from_the_kept_rule() -> None:
    """VPP 7's 112 chunks: the default stack's even split refuses them, kept rule or not."""
    for _ in range(2):
        with pytest.raises(Exception, match="split"):
            estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **{**PLAN, "vpp": 7})


def _benchmark() -> object:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "single_estimate.py"
    spec = importlib.util.spec_from_file_location("single_estimate_hS73", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_process_runs_with_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("HS73_KEPT", "yes")
    env = _benchmark().bytecode_env()  # type: ignore[attr-defined]
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["HS73_KEPT"] == "yes"
