"""A stack's per-model recipe (`catalog.model_recipes`, `Stack.model_recipes`) and the precisions a stack trains in
(`Stack.dtypes`, `training.stack_limits`): a user's plan on the default stack runs what the validation row of the
same plan runs (H004 / H005, Llama 3.1 405B on 256 GB200, Megatron-Bridge 0.3.1 llama31_405b_pretrain_config), and
a search under Meta's Llama 3 stack stays in bf16."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.error_bands import Residual
from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stacks import load_stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training.enums import Dtype
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.search import search_plans
from infraplan.training.step_time import step_time
from infraplan.validation.sets import MODEL_RECIPE_STACK, frontier_set, load_frontier_rows

H004 = dict(tp=4, pp=16, seq_len=8192, global_batch=1536, micro_batch=1)  # + vpp 4 fp8 (H004) / vpp 8 nvfp4 (H005)


def _user(vpp: int, dtype: str, stack: object = None, recompute: str = "auto") -> object:
    return estimate_training("llama3-405b", "gb200-nvl72-superpod", 256, vpp=vpp, dtype=dtype, recompute=recompute,
                             stack=stack, **H004)  # type: ignore[arg-type]


def _row(row_id: str) -> float:
    """The row's predicted tokens/s/GPU as the frontier set scores it (`validation.sets.frontier_set`)."""
    published = {r["id"]: float(r["value"]) for r in load_frontier_rows()}
    residual = {r.id: r.residual for r in _frontier()}[row_id]
    return published[row_id] * (1.0 + residual)


@lru_cache(maxsize=1)
def _frontier() -> tuple[Residual, ...]:
    return tuple(frontier_set()[1])


def test_the_default_stack_runs_the_405b_recipes_split_and_says_so() -> None:
    stack = resolve_stack(None, "training", "llama3-405b")
    assert stack.account_for_embedding_in_pipeline_split and stack.account_for_loss_in_pipeline_split
    assert not stack.cuda_graphs and stack.recipe_model == "llama3-405b"
    assert stack is resolve_stack("nemo-26.04", "training", "llama3-405b")  # one object (the one-plan memo's key)
    fp8 = _user(4, "fp8")
    # no recompute needed: 126 + 2 pipeline slots, the end stages one layer lighter (it was full recompute of 1 of
    # 2 layers per chunk and 644 tokens/s/GPU on the bare even split, 178.7 GiB without recompute of 173.2)
    assert fp8.config.recompute == "none" and fp8.fits  # type: ignore[attr-defined]
    assert any("llama31_405b_pretrain_config" in n and "llama3.py:1131-1133" in n
               for n in fp8.notes)  # type: ignore[attr-defined]
    bare_stack = load_stack("nemo-26.04").model_copy(update={  # a Stack object is taken as built:
        "pipeline_split_divisible": False})  # no recipe (126 layers on 64 chunks, which 0.16.1 refuses: hR44)
    bare = _user(4, "fp8", stack=bare_stack)
    # the bare even split's heaviest stage needs more memory than the recipe's: without recompute 188.9 GiB of the
    # GB200's 185 GiB (178.7 before hA57 counted the fused attention's saved bf16 O beside the projection's fp8 copy,
    # `training.fp8_dpa.ATTENTION_SAVES_OUTPUT`; the recipe's split 181.5, was 171.9), so auto takes selective
    # recompute (the checkpointed core attention keeps no O) and the recipe's split is at least as fast
    assert bare.config.recompute == "selective" and bare.fits  # type: ignore[attr-defined]
    bare_none = _user(4, "fp8", stack=bare_stack, recompute="none")
    assert bare_none.memory_per_gpu_bytes > fp8.memory_per_gpu_bytes  # type: ignore[attr-defined]
    assert fp8.tokens_per_s_per_gpu >= bare.tokens_per_s_per_gpu  # type: ignore[attr-defined]
    # a model without a recipe in the stack runs its defaults, without a note
    small = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=1, seq_len=2048, global_batch=64)
    assert resolve_stack(None, "training", "llama3-8b") is load_stack("nemo-26.04")
    assert not any("own recipe" in n for n in small.notes)


def test_a_users_h004_plan_is_the_validation_rows_answer() -> None:
    # the row also runs the stack's rank order (Megatron-Bridge 0.3.1 initialize.py:630), as `train` does
    assert _user(4, "fp8").tokens_per_s_per_gpu == pytest.approx(_row("H004"), rel=1e-12)  # type: ignore[attr-defined]


def test_h005s_interleave_runs_on_the_default_stack_and_its_perf_settings_give_the_rows_answer(tmp_path: Path) -> None:
    # megatron-core 0.16.1 transformer_block.py:148-177: (126 + 2) / 16 = 8 layers per rank, divisible by VP 8
    vp8 = _user(8, "nvfp4")
    with pytest.raises(InputError, match="128 model chunks"):
        _user(8, "nvfp4", stack=load_stack("nemo-26.04"))  # 126 slots: refused, as megatron-core refuses it
    # the row's perf config turns TP overlap off (llama31.py:355) and reduces gradients in bf16: with those, one answer
    perf = tmp_path / "h005.yaml"
    perf.write_text("extends: nemo-26.04\ntp_comm_overlap_fraction: 0.0\ntp_overlap_sm_fraction: 0.0\n"
                    "grad_reduce_dtype: bf16\n")
    assert _user(8, "nvfp4", stack=str(perf)).tokens_per_s_per_gpu == pytest.approx(  # type: ignore[attr-defined]
        _row("H005"), rel=1e-12)
    assert vp8.tokens_per_s_per_gpu > _row("H005")  # type: ignore[attr-defined]  # the recipe's TP overlap on


def test_the_frontier_rows_take_the_recipes_from_the_stack() -> None:
    stack = load_stack("nemo-26.04")
    assert MODEL_RECIPE_STACK["deepseek-v3"] == {  # (the PP x VP its layouts run: deepseek_v3.py:37-49, hR45)
        "grad_reduce_dtype": "bf16", "adam_moment_dtype": "bf16", "cuda_graphs": False,
        "pipeline_layout_plans": ((4, 1), (8, 1), (4, 2), (16, 1), (8, 2), (4, 4))}
    # kimi-k2 added by hW59 (kimi_k2.py:28-50's pipeline layouts; no frontier row trains it), kimi-k2.5 by hD68
    assert set(MODEL_RECIPE_STACK) == {"llama3-405b", "deepseek-v3", "kimi-k2", "kimi-k2.5", "qwen3-235b-a22b",
                                       "gpt-oss-120b"}
    applied = stack_for_model(stack, "deepseek-v3")
    assert applied.grad_reduce_dtype == "bf16" and stack_for_model(applied, "deepseek-v3") is applied
    assert all(r.source.startswith("megatron-bridge 0.3.1 recipes/") for r in stack.model_recipes)


_TWICE = "  - {model: llama3-8b, source: 'recipe.py:1', cuda_graphs: false}\n"


@pytest.mark.parametrize(("body", "match"), [
    ("model_recipes:\n  - {model: llama3-8b, source: x, recompute: full}\n", "recompute"),  # not a recipe setting
    # `recipe_model` is what `stack_for_model` records: a file setting it skipped the model's own recipe and had
    # `train` name another model's recipe as applied (hR review)
    ("recipe_model: llama3-405b\n", "recipe_model"),
    # two recipes for one model: the first used to win silently (hR review)
    ("model_recipes:\n" + _TWICE + _TWICE, "llama3-8b listed more than once"),
])
def test_a_stack_file_with_a_bad_recipe_entry_is_refused(tmp_path: Path, body: str, match: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: nemo-26.04\n" + body)
    with pytest.raises(InputError, match=match):
        load_stack(str(bad))


def test_a_recipe_setting_nothing_says_so(tmp_path: Path) -> None:
    """A user's recipe entry with only its model and source: the note said "settings:  (source)" (hR review)."""
    from infraplan.catalog.model_recipes import recipe_note

    bare = tmp_path / "bare.yaml"
    bare.write_text("extends: nemo-26.04\nmodel_recipes:\n  - {model: llama3-8b, source: my notes}\n")
    note = recipe_note(resolve_stack(str(bare), "training", "llama3-8b"))
    assert note is not None and note.endswith("settings: none beyond the stack defaults (my notes)")


def test_a_search_under_the_recipe_tries_the_pipelines_train_accepts(tmp_path: Path) -> None:
    """The 405B recipe counts the embedding and the loss as pipeline layers, so `train` takes PP16 x VP8 (H005: 128
    chunks over 126 + 2 slots); the search's grid tried PP x VP up to the 126 layers only, so it never proposed the
    plan a user of the stack runs (hR review). Now the recipe's stack searches more plans than the stack without it."""
    plain = tmp_path / "plain.yaml"
    plain.write_text("extends: nemo-26.04\nmodel_recipes: []\n")
    args = ("llama3-405b", "gb200-nvl72-superpod", 256)
    kwargs = dict(seq_len=8192, global_batch=1536, dtype="nvfp4", top=1)
    recipe, without = (search_plans(*args, stack=stack, **kwargs) for stack in (None, str(plain)))  # type: ignore[arg-type]
    assert recipe.evaluated_count > without.evaluated_count
    assert _user(8, "nvfp4").config.vpp == 8  # type: ignore[attr-defined]


def test_metas_stack_trains_in_bf16_only() -> None:
    meta = load_stack("meta-llama3")
    assert meta.dtypes == ("bf16",) and "BF16 Model FLOPs Utilization" in (meta.dtypes_source or "")
    found = search_plans("llama3-405b", "meta-genai-roce-24k", 16384, seq_len=8192, global_batch=2048,
                         stack="meta-llama3", top=3)
    assert {p.config.dtype for p in [found.best, *found.top]} == {"bf16"}
    with pytest.raises(InputError, match="trains in bf16"):
        search_plans("llama3-405b", "meta-genai-roce-24k", 16384, seq_len=8192, global_batch=2048,
                     stack="meta-llama3", dtype="fp8")
    fp8 = estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, tp=8, pp=16, vpp=7, seq_len=8192,
                            global_batch=2048, zero=3, dtype="fp8", stack="meta-llama3")
    assert any(n.startswith("precision outside the stack: meta-llama3 trains in bf16") for n in fp8.notes)
    assert load_stack("nemo-26.04").dtypes is None  # a stack naming none: every precision, no note


def test_step_time_by_stack_name_carries_the_models_recipe() -> None:
    """The API's `step_time` with a stack name (or none) prices the plan under the stack's recipe for the model, as
    `estimate_training` and `search_plans` do; a Stack object is taken as its caller built it (hR review)."""
    shape, cluster = load_model("llama3-405b"), Cluster.resolve("gb200-nvl72-superpod").for_gpus(256)
    plan = PlanArrays.build(tp=4, pp=16, dp=4, cp=1, ep=1, vpp=4, micro_batch=1, global_batch=1536, seq_len=8192,
                            recompute=0, zero=1, dtype=int(Dtype.FP8))
    bare = resolve_stack("nemo-26.04", "training")
    with_recipe = stack_for_model(bare, "llama3-405b")
    by_name, default = (step_time(shape, cluster, plan, s)["step_time_s"][0] for s in ("nemo-26.04", None))
    assert by_name == default == step_time(shape, cluster, plan, with_recipe)["step_time_s"][0]
    assert by_name < step_time(shape, cluster, plan, bare)["step_time_s"][0]  # the bare stack: 126 layers over 16
