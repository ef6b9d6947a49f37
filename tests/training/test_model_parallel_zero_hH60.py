"""NeMo 2.1 (the 24.12 container) runs ZeRO-2 only as Lightning's FSDPStrategy (SHARD_GRAD_OP), which initialises
Megatron's parallel state from ModelParallelConfig's defaults: TP = PP = CP = EP = 1 (nemo/lightning/pytorch/
strategies/utils.py:48-53, fsdp_strategy.py:86-89). `Stack.model_parallel_zero_stages` names the ZeRO stages a
framework runs with TP, CP or EP > 1: `search` proposes no other there (the branch and bound agreeing with pricing
every plan), `train` prices one with a note (`training.stack_limits`; hH, session 60)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.training import search
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

ARGS = ("llama3-8b", "dgx-h100-superpod", 64, 8192, 128)


def _model_parallel_zero2(rows: list) -> list:  # type: ignore[type-arg]
    return [r.config for r in rows if r.config.zero == 2 and max(r.config.tp, r.config.cp, r.config.ep) > 1]


def test_nemo_24_12_names_the_zero_stages_it_runs_with_model_parallelism() -> None:
    nemo = load_stack("nemo-24.12")
    assert nemo.model_parallel_zero_stages == (0, 1, 3)
    assert "utils.py:48-53" in (nemo.model_parallel_zero_stages_source or "")
    assert load_stack("nemo-26.04").model_parallel_zero_stages is None  # Megatron-FSDP's ZeRO-2 runs with TP


def test_the_limit_needs_a_source(tmp_path) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text("display_name: x\nkind: training\nstack_class: megatron\nsource: s\n"
                    "model_parallel_zero_stages: [0, 1]\n")
    with pytest.raises(InputError, match="model_parallel_zero_stages_source"):
        load_stack(str(bare))


def test_search_proposes_no_zero_2_with_model_parallelism_under_nemo_24_12() -> None:
    """The same stack without the field proposes ZeRO-2 plans at TP 2-8 (7 of the top 20 for Llama 3 8B on 64
    H100); with it none, every plan still evaluated, fewer feasible."""
    nemo = load_stack("nemo-24.12")
    held = search_plans(*ARGS, top=20, stack=nemo)
    free = search_plans(*ARGS, top=20, stack=nemo.model_copy(update={"model_parallel_zero_stages": None}))
    assert _model_parallel_zero2(free.top) and not _model_parallel_zero2(held.top)
    assert held.evaluated_count == free.evaluated_count and held.feasible_count < free.feasible_count
    assert any(r.config.zero == 2 for r in free.top)


def test_the_bound_agrees_with_pricing_every_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    bounded = search_plans(*ARGS, top=20, stack="nemo-24.12")
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    full = search_plans(*ARGS, top=20, stack="nemo-24.12")
    assert (bounded.evaluated_count, bounded.feasible_count) == (full.evaluated_count, full.feasible_count)
    assert [r.config for r in bounded.top] == [r.config for r in full.top]
    assert not _model_parallel_zero2(bounded.top)  # (the refusal holds on both paths)


def test_train_notes_zero_2_with_tp_and_not_without() -> None:
    plan = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=64, seq_len=8192, global_batch=128,
                stack="nemo-24.12")
    said = "ZeRO outside the stack: nemo-24.12 does not run ZeRO-2 with TP 2"
    tp2 = estimate_training(**plan, tp=2, zero=2)  # type: ignore[arg-type]
    assert any(n.startswith(said) for n in tp2.notes)
    for other in (dict(tp=1, zero=2), dict(tp=2, zero=3), dict(tp=2, zero=1)):
        notes = estimate_training(**plan, **other).notes  # type: ignore[arg-type]
        assert not any(n.startswith("ZeRO outside the stack") for n in notes), other
    # priced as asked: the note moves no number
    free = load_stack("nemo-24.12").model_copy(update={"model_parallel_zero_stages": None})
    unchecked = estimate_training(**{**plan, "stack": free}, tp=2, zero=2)  # type: ignore[arg-type]
    assert unchecked.step_time_s == tp2.step_time_s and not any(n.startswith(said) for n in unchecked.notes)
