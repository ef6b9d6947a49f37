"""hS55 (session 48): three cuts of a single estimate's work, each held to the code it skips.

* `catalog.figures.accelerator_presets`: the accelerator presets' names, listed once, for the membership
  `name in preset_files("accelerators")` that `catalog.figures` asked twice per estimate (building the dict each time).
* `catalog.model_recipes.stack_for_model`: the stack and model kept before the recipes are scanned (a stack without a
  recipe for the model is kept as itself).
* `training.layer_time.layer_times_but_ep`: a bf16 plan on a stack that gathers TP activations in the GEMMs' format
  (`Stack.quantized_tp_all_gather`, nemo-26.04) no longer prices its gathers' deltas: they are `base - base` of a
  finite TP time, 0.0. Held to the priced deltas (the skip switched off) bit for bit, layer terms and whole answers.
"""

from __future__ import annotations

import math
import struct
import types
from typing import Any

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.figures import accelerator_presets
from infraplan.catalog.loader import list_presets, preset_files
from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stacks import load_stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.training import layer_time
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo, cluster_pricing
from infraplan.training.plan_resolution import resolve_plan


def test_accelerator_presets_are_the_folders_names() -> None:
    names = set(preset_files("accelerators"))
    assert names and accelerator_presets() == names
    assert accelerator_presets() is accelerator_presets()  # listed once
    for name in ["no-such-part", "", *(n.upper() for n in names), *(n + ".yaml" for n in names)]:
        assert (name in accelerator_presets()) is (name in names), name
    assert not set(preset_files("systems")) & accelerator_presets()  # the accelerators' folder alone


def test_a_recipe_stack_is_one_object_and_the_recipe_applied() -> None:
    stack = load_stack("nemo-26.04")
    assert any(r.model == "llama3-405b" for r in stack.model_recipes)
    first = stack_for_model(stack, "llama3-405b")
    assert first is stack_for_model(stack, "llama3-405b")  # kept
    recipe = next(r for r in stack.model_recipes if r.model == "llama3-405b")
    assert first == stack.model_copy(update={**recipe.settings(), "recipe_model": "llama3-405b"})
    assert first.recipe_model == "llama3-405b" and stack.recipe_model is None
    assert stack_for_model(first, "llama3-405b") is first  # a stack carrying its recipe stays itself


@pytest.mark.parametrize("model", ["llama3-8b", "mixtral-8x7b", "a-file-model"])
def test_a_stack_without_the_models_recipe_is_itself(model: str) -> None:
    stack = load_stack("nemo-26.04")
    assert not any(r.model == model for r in stack.model_recipes)
    assert stack_for_model(stack, model) is stack
    assert stack_for_model(stack, model) is stack  # kept as itself, asked again
    other = load_stack("torchtitan")
    assert stack_for_model(other, model) is other  # another stack: its own entry


def _bits(terms: dict[str, Any]) -> dict[str, Any]:
    """Each float term as its IEEE bits (-0.0 and NaN told apart), anything else as it is."""
    return {k: struct.pack("<d", v) if type(v) is float else v for k, v in terms.items()}


_NEVER_FINITE = types.SimpleNamespace(isfinite=lambda x: False)  # the skip off: every plan prices its deltas

# (model, system, gpus, tp, pp, cp, ep, sequence parallel, seq_len, dtype)
_PLANS = [
    ("llama3-405b", "meta-genai-roce-24k", 16384, 8, 16, 1, 1, True, 8160, "bf16"),
    ("llama3-70b", "dgx-h100-superpod", 512, 4, 4, 2, 1, True, 4096, "bf16"),
    ("llama3-70b", "dgx-h100-superpod", 512, 8, 2, 1, 1, False, 4096, "bf16"),
    ("llama3-8b", "dgx-h100-superpod", 8, 1, 1, 1, 1, True, 2048, "bf16"),
    ("mixtral-8x7b", "dgx-h100-superpod", 256, 2, 4, 1, 8, True, 4096, "bf16"),
    ("llama3-70b", "dgx-h100-superpod", 512, 8, 2, 1, 1, True, 4096, "fp8"),
]


def _layer_terms(monkeypatch: pytest.MonkeyPatch, skip: bool, case: tuple[Any, ...]) -> tuple[dict[str, Any], int]:
    """`layer_times_but_ep` of a plan's `one_row` on nemo-26.04, with the skip on or off, and the deltas priced."""
    model, system, gpus, tp, pp, cp, ep, sp, seq_len, dtype = case
    shape = load_model(model)
    stack = resolve_stack("nemo-26.04", "training", model)
    assert stack.quantized_tp_all_gather
    cluster = Cluster.resolve(system).placed(gpus)
    plan = resolve_plan(shape, cluster, gpus, tp, pp, None, cp, ep, 1, seq_len, 4096, 1, "none", 1, dtype, "flash",
                        "tp-cp-dp-pp", sp, None, None)
    pricing = cluster_pricing(cluster, stack)
    priced = []
    real = layer_time.quantised_gather_deltas
    monkeypatch.setattr(layer_time, "quantised_gather_deltas", lambda *a: priced.append(1) or real(*a))
    monkeypatch.setattr(layer_time, "math", math if skip else _NEVER_FINITE)
    row = plan.one_row
    terms, _ = layer_time.layer_times_but_ep(shape, pricing.rates, cluster.fabric, row, pricing.precision_of(row),
                                             cluster.fabric.host_kernel_dispatch_s, stack)
    return terms, len(priced)


@pytest.mark.parametrize("case", _PLANS, ids=[f"{c[0]}-tp{c[3]}-cp{c[5]}-sp{int(c[7])}-{c[9]}" for c in _PLANS])
def test_bf16_gathers_skip_their_deltas_with_the_same_bits(monkeypatch: pytest.MonkeyPatch,
                                                           case: tuple[Any, ...]) -> None:
    skipped, priced_skipped = _layer_terms(monkeypatch, True, case)
    full, priced_full = _layer_terms(monkeypatch, False, case)
    assert _bits(skipped) == _bits(full)
    assert priced_full == 1  # the stack gathers in the GEMMs' format: the deltas are priced with the skip off
    assert priced_skipped == (0 if case[-1] == "bf16" else 1)  # bf16 skips them; fp8 moves other bytes, priced


@pytest.mark.parametrize("case", _PLANS[:3], ids=["405b", "70b-cp2", "70b-no-sp"])
def test_whole_answers_keep_their_bits_without_the_bf16_deltas(monkeypatch: pytest.MonkeyPatch,
                                                              case: tuple[Any, ...]) -> None:
    model, system, gpus, tp, pp, cp, ep, sp, seq_len, dtype = case
    answers = []
    for maths in (math, _NEVER_FINITE):
        monkeypatch.setattr(layer_time, "math", maths)
        clear_one_plan_memo()
        answers.append(estimate_training(model, system, gpus, tp=tp, pp=pp, cp=cp, ep=ep, seq_len=seq_len,
                                         global_batch=4096, dtype=dtype, sequence_parallel=sp).model_dump_json())
    clear_one_plan_memo()
    assert answers[0] == answers[1]


def test_the_models_asked_are_presets() -> None:  # (the plans above name presets: a renamed one fails here first)
    assert {c[0] for c in _PLANS} <= set(list_presets("models"))
