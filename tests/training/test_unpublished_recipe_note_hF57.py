"""`train` / `search` of a plan in a precision with no published pre-training recipe for the model's class say so
(hF, session 57): `--dtype auto` leaves NVFP4 out for MoE models (catalog/training_precisions.yaml, hU58), yet
`train deepseek-v3 --dtype nvfp4` (and `search --dtype nvfp4`) priced it with no line saying it is an extrapolation.
Checked failing before: `unpublished_recipe_notes` did not exist (import error), and no note carried the words.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.training_precisions import unpublished_recipe_notes
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

MOE: dict[str, Any] = dict(model="qwen3-30b-a3b", system="gb200-nvl72", gpus=8, tp=2, ep=4, etp=1, seq_len=4096,
                           global_batch=64)
WORDS = "no published moe pre-training measurement in nvfp4"


def _said(notes: list[str]) -> bool:
    return any(WORDS in n for n in notes)


def test_the_rule() -> None:
    assert unpublished_recipe_notes("nvfp4", is_moe=False) == []
    assert unpublished_recipe_notes("mxfp8", is_moe=True) == [] and unpublished_recipe_notes("bf16", True) == []
    (note,) = unpublished_recipe_notes("nvfp4", is_moe=True)
    assert WORDS in note and "catalog/training_precisions.yaml" in note and "--dtype auto leaves out" in note


def test_train_says_it_for_nvfp4_moe_only() -> None:
    assert _said(estimate_training(dtype="nvfp4", **MOE).notes)
    assert not _said(estimate_training(dtype="mxfp8", **MOE).notes)
    dense = estimate_training("llama3-8b", "gb200-nvl72", 8, tp=1, seq_len=4096, global_batch=64, dtype="nvfp4")
    assert not any("pre-training measurement in" in n for n in dense.notes)


def test_search_says_it_of_its_best_plan() -> None:
    named = search_plans("qwen3-30b-a3b", "gb200-nvl72", 8, 4096, 64, dtype="nvfp4", top=1)
    assert named.best is not None and named.best.config.dtype == "nvfp4" and _said(named.notes)
    auto = search_plans("qwen3-30b-a3b", "gb200-nvl72", 8, 4096, 64, dtype="auto", top=1)
    assert auto.best is not None and auto.best.config.dtype != "nvfp4" and not _said(auto.notes)
