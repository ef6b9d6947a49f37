"""The same question asked two ways (hX3, session 39): a user's file holding a preset's figures gets the preset's
answer, whatever the file is called.

A stack's per-model recipe (`catalog.model_recipes`, e.g. nemo-26.04's for Llama 3.1 405B: the embedding and the
loss counted as pipeline layers, no CUDA graphs; Megatron-Bridge 0.3.1 recipes/llama/llama3.py:1131-1148) was looked
up by the model's name, which for a file is its file name: on 512 H100 (TP8 PP8) the 405B config.json saved as
`mine/config.json` ran without the recipe (4.2 % slower), DeepSeek-V3's copy did not fit (gradients and Adam moments
in fp32, not the recipe's bf16), a Llama 3 70B config saved as `llama3-405b.json` ran the 405B recipe, and
DeepSeek-R1 (DeepSeek-V3's figures; Megatron-Bridge ships no R1 recipe) ran without V3's (EP8 fp8: 8.73 s and
38.8 GiB per GPU against 8.61 s and 29.9 GiB). The recipe now follows the figures (`recipe_key`). System,
accelerator and stack files copied under their preset's name are the preset.

An accelerator file without `extends` was a new part whatever its figures: a copy of gb200.yaml saved as
my-gb200.yaml lost GB200's measured MNNVL all-to-all (Qwen3-30B-A3B EP16 on 64 GPUs: 1.216 s a step against
0.808 s), a copy of h200.yaml its NCCL tables, error bands and price (`serve` unpriced, TPOT +0.2 %). A file holding
every figure of a preset is now that preset (`catalog.loader._twin`), its inherited price said in a note.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog.model_recipes import recipe_key, stack_for_model
from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

CATALOG = resources.files("infraplan.catalog")
# PP 4: each recipe model's layers split evenly (PP 8 leaves GPT-OSS's 36 undivided: refused, hR45)
PLAN: dict[str, Any] = {"gpus": 512, "tp": 8, "pp": 4, "seq_len": 4096, "global_batch": 512}
RECIPE_MODELS = ["llama3-405b", "deepseek-v3", "qwen3-235b-a22b", "gpt-oss-120b"]  # nemo-26.04's model_recipes


def _copy(folder: str, preset: str, to: Path) -> str:
    to.parent.mkdir(parents=True, exist_ok=True)
    suffix = ".json" if folder == "models" else ".yaml"
    with resources.as_file(CATALOG / folder / f"{preset}{suffix}") as src:
        shutil.copyfile(src, to)
    return str(to)


def _answer(model: str, system: str = "dgx-h100-superpod", **kw: Any) -> dict[str, Any]:
    """`train`'s answer without the labels a file name sets."""
    out = estimate_training(model, system, **{**PLAN, **kw}).model_dump()
    for label in ("model", "system", "accelerator", "stack"):
        out.pop(label)
    return out


@pytest.mark.parametrize("preset", RECIPE_MODELS)
def test_a_copy_of_a_presets_config_is_the_preset(preset: str, tmp_path: Path) -> None:
    mine = _copy("models", preset, tmp_path / "mine" / "config.json")
    by_name, by_file = _answer(preset), _answer(mine)
    assert by_file == by_name
    assert any(f"runs {preset} with its own recipe" in n for n in by_file["notes"])


def test_a_file_named_after_a_preset_with_other_figures_is_not_that_preset(tmp_path: Path) -> None:
    misnamed = _copy("models", "llama3-70b", tmp_path / "llama3-405b.json")  # 70B figures, the 405B's file name
    answer = _answer(misnamed, gpus=64, pp=4, global_batch=128)
    assert answer == _answer("llama3-70b", gpus=64, pp=4, global_batch=128)
    assert not any("its own recipe" in n for n in answer["notes"])  # ran the 405B recipe before


def test_deepseek_r1_trains_as_deepseek_v3() -> None:
    """R1 is V3's architecture (its config.json's figures are V3's): one answer, V3's recipe (nemo-26.04)."""
    kw: dict[str, Any] = {"ep": 8, "dtype": "fp8"}
    r1, v3 = _answer("deepseek-r1", **kw), _answer("deepseek-v3", **kw)
    assert r1 == v3
    assert any("runs deepseek-v3 with its own recipe" in n for n in r1["notes"])


def test_recipe_key_follows_the_figures(tmp_path: Path) -> None:
    from infraplan.catalog import load_model

    assert recipe_key(load_model("llama3-405b")) == "llama3-405b"
    assert recipe_key(load_model(_copy("models", "llama3-405b", tmp_path / "x" / "config.json"))) == "llama3-405b"
    assert recipe_key(load_model(_copy("models", "llama3-70b", tmp_path / "llama3-405b.json"))) == "llama3-70b"
    variant = load_model("llama3-405b").model_copy(update={"num_kv_heads": 16})
    assert recipe_key(variant) == "llama3-405b"  # a what-if variant of the preset keeps its recipe
    assert recipe_key(variant.model_copy(update={"name": "my-model"})) == "my-model"  # a user stack's own recipe
    assert recipe_key(load_model("deepseek-r1")) == "deepseek-r1"  # a preset by name is itself
    r1 = stack_for_model(load_stack("nemo-26.04"), "deepseek-r1")
    assert r1.recipe_model == "deepseek-v3"  # and runs the recipe of the preset of its figures
    assert stack_for_model(load_stack("nemo-26.04"), "korthikanti-1t").recipe_model is None  # none: unchanged


def test_search_on_a_copy_ranks_as_on_the_preset(tmp_path: Path) -> None:
    mine = _copy("models", "llama3-405b", tmp_path / "mine" / "config.json")
    rows = [search_plans(m, "dgx-h100-superpod", 512, 4096, 512, top=4).top for m in ("llama3-405b", mine)]
    assert [r.model_dump(exclude={"train_command"}) for r in rows[0]] == [
        r.model_dump(exclude={"train_command"}) for r in rows[1]]


@pytest.mark.parametrize(("folder", "preset", "as_system"), [
    ("systems", "dgx-h100-superpod", True), ("systems", "gb200-nvl72-superpod", True),
    ("accelerators", "h100-sxm", True), ("accelerators", "b200", True),
    ("stacks", "torchtitan", False), ("stacks", "nemo-26.04", False),
])
def test_a_file_copied_under_its_presets_name_is_the_preset(folder: str, preset: str, as_system: bool,
                                                            tmp_path: Path) -> None:
    path = _copy(folder, preset, tmp_path / f"{preset}.yaml")
    kw: dict[str, Any] = {"gpus": 64, "pp": 2, "global_batch": 128}
    if as_system:
        assert _answer("llama3-8b", path, **kw) == _answer("llama3-8b", preset, **kw)
    else:
        assert _answer("llama3-8b", stack=path, **kw) == _answer("llama3-8b", stack=preset, **kw)


@pytest.mark.parametrize(("preset", "model", "kw"), [
    ("gb200", "qwen3-30b-a3b", {"gpus": 64, "tp": 1, "pp": 1, "ep": 16, "global_batch": 256, "dtype": "fp8"}),
    ("h100-sxm", "llama3-8b", {"gpus": 64, "pp": 2, "global_batch": 128}),
])
def test_a_renamed_copy_of_an_accelerator_is_the_preset(preset: str, model: str, kw: dict[str, Any],
                                                         tmp_path: Path) -> None:
    mine = _copy("accelerators", preset, tmp_path / f"my-{preset}.yaml")
    assert _answer(model, mine, **kw) == _answer(model, preset, **kw)


def test_a_renamed_copy_of_an_accelerator_serves_and_costs_as_the_preset(tmp_path: Path) -> None:
    from infraplan.facility.facility import size_facility
    from infraplan.serving.serving_api import estimate_serving

    mine = _copy("accelerators", "h200", tmp_path / "my-h200.yaml")
    kw: dict[str, Any] = {"tp": 4, "rate": 5.0, "workload": "chat", "requests": 200, "dtype": "fp8"}
    served = [estimate_serving("llama3-70b", s, 8, **kw).model_dump() for s in ("h200", mine)]
    assert any("price of h200 inherited" in w for w in served[1]["warnings"])  # said, as facility's price_note
    for label in ("system", "accelerator", "warnings"):
        served[0].pop(label), served[1].pop(label)
    assert served[1] == served[0]
    sized = [size_facility(accelerator=a, count=64).model_dump() for a in ("h200", mine)]
    assert "price of h200 inherited" in sized[1].pop("price_note") and sized[0].pop("price_note") is None
    sized[0].pop("accelerator"), sized[1].pop("accelerator")
    assert sized[1] == sized[0]
