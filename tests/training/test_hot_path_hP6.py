"""Counts a single estimate no longer repeats across plans (hP6, session 36), each with the same bits as before.

`ops.params.PLAN_SHAPE_COUNTS` keeps, by the model's identity, one plan's parameter counts per stage kind
(`training.memory._kept_on_row`: what + TP, PP, EP, ETP) and its stored activation bytes per token and layer
(`training.activation_memory.activation_bytes_per_token_layer`: stack, TP, SP, recompute, precision, and the
sequence only for unfused attention's scores) and its state terms per stage kind (`training.memory.
_kinds_state_terms`: the plan's axes, ZeRO, precision and schedule, no sequence or batch);
`clear_one_plan_memo()` empties it, `pricings=False` keeps it.
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.ops import params as ops_params
from infraplan.training import activation_memory, state_memory
from infraplan.training.enums import Attention, Dtype, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays

PLAN: dict[str, Any] = dict(tp=8, pp=4, cp=1, vpp=2, seq_len=4096, global_batch=128, micro_batch=1,
                            recompute="selective", zero=1, dtype="bf16")


def _estimate(**changes: Any) -> str:
    return estimate_training("llama3-70b", "dgx-h100-superpod", 64, **{**PLAN, **changes}).to_json()


def _fresh(**changes: Any) -> str:
    clear_one_plan_memo()
    return _estimate(**changes)


def test_parameter_counts_are_counted_once_per_model_and_axes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan that differs from one estimated before only in its sequence length (or batch) reads its parameter
    counts from the memo: `ops.params.local_params` is not called again; a new TP counts them anew."""
    clear_one_plan_memo()
    _estimate()
    calls: list[tuple[Any, ...]] = []
    original = ops_params.local_params

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1:3])
        return original(*args, **kwargs)

    monkeypatch.setattr(ops_params, "local_params", counted)
    clear_one_plan_memo(pricings=False)  # what the benchmark's never-seen plan forgets
    _estimate(seq_len=2048, global_batch=256)
    assert calls == []
    _estimate(tp=4, seq_len=2048)
    assert calls and all(tp == 4 for tp, _ in calls)


def test_state_terms_are_kept_for_plans_that_differ_in_sequence_or_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The weights, gradients and optimizer state of a plan that differs from one estimated before only in its
    sequence and batch come from the memo (no stage's parameters asked); a new ZeRO stage prices them anew."""
    clear_one_plan_memo()
    _estimate()
    calls: list[int] = []
    original = state_memory.stage_kind_params

    def counted(*args: Any) -> Any:
        calls.append(args[3])
        return original(*args)

    monkeypatch.setattr(state_memory, "stage_kind_params", counted)
    clear_one_plan_memo(pricings=False)
    _estimate(seq_len=8192, micro_batch=2)
    assert calls == []
    _estimate(zero=2, seq_len=8192)
    assert calls


def test_kept_counts_give_the_bits_of_a_fresh_estimate() -> None:
    """Every plan priced after others of the same model (memo hits) has the JSON of the same plan priced with
    every memo emptied first; plans over TP, PP, EP-free axes, recompute, precision and the sequence."""
    variants: list[dict[str, Any]] = [
        dict(seq_len=2048), dict(tp=4, seq_len=2048), dict(pp=8, vpp=1), dict(recompute="none"), dict(dtype="fp8"),
        dict(attention="unfused", recompute="none"), dict(attention="unfused", recompute="none", seq_len=2048),
        dict(zero=3), dict(zero=3, seq_len=1024), dict(schedule="1f1b", vpp=1), dict(pp=2, vpp=1, zero=0),
        dict(tp=2, pp=2, vpp=1, micro_batch=2)]
    fresh = [_fresh(**v) for v in variants]
    clear_one_plan_memo()
    kept = []
    for v in variants:
        clear_one_plan_memo(pricings=False)
        kept.append(_estimate(**v))
    assert kept == fresh


def test_activation_bytes_read_the_sequence_only_for_unfused_scores() -> None:
    """Unfused attention keeps its scores (per token, linear in the sequence): two sequence lengths give two values
    (the sequence is in the key); fused attention's bytes do not read it (one entry serves both)."""
    shape, stack = load_model("llama3-8b"), resolve_stack(None, "training")
    clear_one_plan_memo()

    def row(seq_len: int, attention: Attention) -> PlanArrays:
        return PlanArrays.one_plan(tp=2, pp=1, dp=4, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=8,
                                   seq_len=seq_len, recompute=Recompute.NONE, zero=1, dtype=Dtype.BF16,
                                   attention=attention, order=0, sequence_parallel=1).one_row

    bytes_of = activation_memory.activation_bytes_per_token_layer
    unfused = [bytes_of(shape, row(s, Attention.UNFUSED), stack) for s in (1024, 2048)]
    assert unfused[1] > unfused[0]
    clear_one_plan_memo()
    assert bytes_of(shape, row(2048, Attention.UNFUSED), stack) == unfused[1]
    before = len(ops_params.PLAN_SHAPE_COUNTS)
    fused = [bytes_of(shape, row(s, Attention.FLASH), stack) for s in (1024, 2048)]
    assert fused[0] == fused[1] and len(ops_params.PLAN_SHAPE_COUNTS) == before + 1


def test_clearing_the_pricings_forgets_the_counts() -> None:
    """`clear_one_plan_memo()` (tests that patch the physics) empties the counts; `pricings=False` keeps them."""
    _estimate()
    assert len(ops_params.PLAN_SHAPE_COUNTS) > 0
    clear_one_plan_memo(pricings=False)
    assert len(ops_params.PLAN_SHAPE_COUNTS) > 0
    clear_one_plan_memo()
    assert len(ops_params.PLAN_SHAPE_COUNTS) == 0
