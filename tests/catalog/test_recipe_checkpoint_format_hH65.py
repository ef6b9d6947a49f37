"""A model's own config.json with its checkpoint's quantization_config trains as the preset (hH, session 65).

DeepSeek-V3's config.json on Hugging Face (deepseek-ai/DeepSeek-V3) carries `quantization_config` {quant_method fp8,
fmt e4m3, weight_block_size [128, 128], activation_scheme dynamic}: how its released weights are stored for serving.
The shipped preset has no such key, and a stack's per-model recipe was looked up by every field of the shape
(`catalog.model_recipes.recipe_key`), the serving-only `checkpoint_*` fields too. So the user's copy of the real file
ran without nemo-26.04's DeepSeek-V3 recipe: NeMo's own published plan (H015, 256 GB200, PP4 VP4 EP64, MXFP8) was
refused ("pipeline stages x virtual stages do not divide the model's 61 layers"; the recipe's layout splits them),
where `train deepseek-v3` answers 4,128 tokens/s per GPU. Kimi K2 the other way round: its preset carries the INT4
quantization_config of Moonshot's Kimi-K2.5 checkpoint, so a copy without it lost the recipe's Muon optimizer.
Training reads none of those fields (`ops.precision`'s serving formats and `serving/` do), so the recipe now keys on
the architecture alone (`catalog.transformer_shape.CHECKPOINT_FORMAT_FIELDS`).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from infraplan.catalog import load_model
from infraplan.catalog.model_recipes import recipe_key
from infraplan.training.estimate import estimate_training

MODELS = resources.files("infraplan.catalog") / "models"
# deepseek-ai/DeepSeek-V3 config.json's quantization_config (the released fp8 weights)
DEEPSEEK_FP8 = {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128]}
H015: dict[str, Any] = {"gpus": 256, "tp": 1, "pp": 4, "vpp": 4, "ep": 64, "seq_len": 4096, "global_batch": 4096,
                        "dtype": "mxfp8"}


def _write(preset: str, to: Path, **changes: Any) -> str:
    config = json.loads((MODELS / f"{preset}.json").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key)
        else:
            config[key] = value
    to.write_text(json.dumps(config))
    return str(to)


def _answer(model: str, **plan: Any) -> dict[str, Any]:
    out = estimate_training(model, "gb200-nvl72-superpod", **plan).model_dump()
    for label in ("model", "system", "accelerator", "stack"):
        out.pop(label)
    return out


def test_deepseek_v3s_own_config_runs_nemos_published_plan(tmp_path: Path) -> None:
    mine = _write("deepseek-v3", tmp_path / "config.json", quantization_config=DEEPSEEK_FP8)
    assert load_model(mine).checkpoint_weight_dtype == "fp8"  # the serving side reads the stored format
    assert recipe_key(load_model(mine)) in ("deepseek-v3", "deepseek-r1")  # V3's figures (R1 has them too)
    answer = _answer(mine, **H015)  # refused before: no recipe layout for 61 layers in 16 chunks
    assert answer == _answer("deepseek-v3", **H015)
    assert any("runs deepseek-v3 with its own recipe" in note for note in answer["notes"])


def test_kimi_k2_without_its_quantization_config_keeps_the_recipes_muon(tmp_path: Path) -> None:
    assert load_model("kimi-k2").checkpoint_weight_dtype  # the preset's INT4 quantization_config (Kimi-K2.5's)
    mine = _write("kimi-k2", tmp_path / "kimi.json", quantization_config=None)
    assert recipe_key(load_model(mine)) == "kimi-k2"
    plan: dict[str, Any] = {"gpus": 1024, "tp": 2, "pp": 16, "ep": 32, "seq_len": 4096, "global_batch": 4096,
                            "recompute": "selective"}
    answer = estimate_training(mine, "dgx-h100-superpod", **plan)
    assert answer.optimizer == "muon"  # Megatron-Bridge 0.3.1 kimi_k2.py's; adam before
    assert answer.step_time_s == estimate_training("kimi-k2", "dgx-h100-superpod", **plan).step_time_s


def test_a_changed_architecture_still_loses_the_recipe(tmp_path: Path) -> None:
    """The rule leaves out the checkpoint format only: a what-if of other figures keeps its own name."""
    other = _write("deepseek-v3", tmp_path / "wider.json", quantization_config=DEEPSEEK_FP8, moe_intermediate_size=4096)
    assert recipe_key(load_model(other)) == "wider"


def test_every_checkpoint_field_of_the_shape_is_a_format_field() -> None:
    """A new `checkpoint_*` field (how a checkpoint stores something for serving) joins the set the recipe ignores."""
    from infraplan.catalog.transformer_shape import CHECKPOINT_FORMAT_FIELDS, TransformerShape

    stored = {name for name in TransformerShape.model_fields if name.startswith("checkpoint_")}
    assert stored == CHECKPOINT_FORMAT_FIELDS
