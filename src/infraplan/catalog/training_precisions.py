"""Which model classes each training precision has a published pre-training recipe for.

`catalog/training_precisions.yaml` lists, per training dtype (`training.enums.Dtype`'s labels), the model classes
(dense: no routed experts; moe: routed experts) for which a pre-training recipe in that precision is published,
with the source. A training search's `--dtype auto` (a plan's training `dtype: auto`) considers only those
precisions for the model's class (`training.dtype_choice`): NVFP4 pre-training is published for dense models
(Megatron-Bridge's Llama 3 / 3.1 NVFP4 rows; arXiv:2509.25149's 12B hybrid), while every Blackwell MoE recipe of
the same releases runs MXFP8, so a 2T MoE is not planned in FP4 by default (session 45, hU58's finding).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import Field

from infraplan.catalog.schemas import Spec
from infraplan.catalog.yaml_text import safe_load_yaml

ModelClass = Literal["dense", "moe"]


class TrainingPrecision(Spec):
    """One training precision and the model classes it has a published pre-training recipe for."""

    dtype: Literal["bf16", "fp8", "mxfp8", "nvfp4"] = Field(description="training precision (`--dtype`)")
    model_classes: tuple[ModelClass, ...] = Field(
        description="model classes with a published pre-training recipe in this precision: dense, moe")
    source: str = Field(min_length=1, description="where each class's recipe is published")


class TrainingPrecisions(Spec):
    """catalog/training_precisions.yaml."""

    precisions: tuple[TrainingPrecision, ...] = Field(description="one entry per training precision")


@lru_cache(maxsize=1)
def load_training_precisions() -> dict[str, TrainingPrecision]:
    """The entries of catalog/training_precisions.yaml by dtype."""
    text = (resources.files("infraplan.catalog") / "training_precisions.yaml").read_text()
    spec = TrainingPrecisions(**safe_load_yaml(text))
    return {p.dtype: p for p in spec.precisions}


def model_class(is_moe: bool) -> ModelClass:
    """The class a model's precisions are looked up under."""
    return "moe" if is_moe else "dense"


def published_for(dtype: str, cls: ModelClass) -> bool:
    """Whether a pre-training recipe in `dtype` is published for `cls` (a dtype without an entry: no)."""
    entry = load_training_precisions().get(dtype)
    return entry is not None and cls in entry.model_classes


def precision_source(dtype: str) -> str:
    """The entry's source (empty for a dtype without one)."""
    entry = load_training_precisions().get(dtype)
    return "" if entry is None else entry.source


def unpublished_recipe_notes(dtype: str, is_moe: bool) -> list[str]:
    """What `train` (and `search` of its best plan) says of a plan in a precision with no published pre-training
    recipe measured for the model's class (NVFP4 on a MoE model: Megatron-Bridge 0.6.0 ships DeepSeek-V3
    NVFP4 configs, no run of them is published): priced as asked, the precision's recipe as for the classes
    it lists, an extrapolation `--dtype auto` leaves out (hF57: `train deepseek-v3 --dtype nvfp4` said nothing)."""
    entry = load_training_precisions().get(dtype)
    cls = model_class(is_moe)
    if entry is None or cls in entry.model_classes:
        return []
    return [f"{dtype} on a {cls} model: no published {cls} pre-training measurement in {dtype} (catalog/"
            f"training_precisions.yaml lists {dtype} for {', '.join(entry.model_classes)} models only; a framework "
            "config without a measured run does not count): priced as "
            f"asked, {dtype}'s recipe as for those (its layers kept in bf16 included), an extrapolation that "
            "--dtype auto leaves out"]
