"""A training stack's per-model recipe: what the framework's own recipe for a model sets beside the stack's defaults.

A framework ships one recipe per model and size (Megatron-Bridge 0.3.1, the NeMo 26.04 stack's, has
`llama31_405b_pretrain_config`, `deepseek_v3_pretrain_config`, `qwen3_235b_a22b_pretrain_config`, ...; no recipe
takes a GPU or precision argument), and a user of that stack who trains that model runs that recipe. Its settings
that the stack profile models are a `ModelRecipe` (`Stack.model_recipes`, each with the file:line it comes from);
`stack_for_model` returns the stack with the recipe of the model applied (`Stack.recipe_model` names it, so it is
applied once: a caller that applied it before adding its own settings, as the frontier validation rows do before
their performance configurations, keeps them). The training entry points apply it to a stack named, defaulted or
read from a file (`resolve_stack(..., model=...)` in `estimate_training`, `evaluate_plans`, `search_plans` and the
sweep's batched estimates); a Stack object is taken as its caller built it. So the validation rows and a user's
identical plan get one answer, and a `train` note names the recipe's settings and source. A recipe is for a model's
figures, not its file name (`recipe_key`): a user's copy of a preset's config.json runs the preset's recipe, a preset
with another's figures runs it (DeepSeek-R1 has V3's: Megatron-Bridge ships no R1 recipe, and training R1's
architecture is V3's pre-training), and a file named after a preset with another preset's figures runs that one's
(hX3, session 39: a Llama 3 70B config saved as llama3-405b.json ran the 405B recipe, the 405B config saved as
config.json none); figures of no preset go by the name (a what-if variant of a preset keeps its recipe). A model with
no recipe in the stack (another user's config.json) runs the stack's defaults; a what-if file wanting none sets
`model_recipes: []`.

Only the fields a shipped recipe sets are expressible here (a recipe setting without a field is left out and said
in the stack's YAML); `settings()` is what the recipe changes, `describe()` says it in a `train` note.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal, Protocol, Self, TypeVar

from pydantic import AfterValidator, Field

from infraplan.catalog.loader import list_presets, load_model
from infraplan.catalog.schemas import Spec
from infraplan.catalog.transformer_shape import CHECKPOINT_FORMAT_FIELDS, TransformerShape
from infraplan.identity_memo import IdentityMemo

_WORDS: dict[str, str] = {
    "account_for_embedding_in_pipeline_split": "the embedding counted as a pipeline layer",
    "account_for_loss_in_pipeline_split": "the LM head + loss counted as a pipeline layer",
    "cuda_graphs": "CUDA graphs",
    "grad_reduce_dtype": "gradients reduced in",
    "adam_moment_dtype": "Adam moments in",
    "optimizer": "optimizer",
    "cross_entropy_impl": "loss kernel",
    "pipeline_layout_plans": "its own pipeline layouts at PP x VP",
}


class ModelRecipe(Spec):
    """The settings a framework's recipe for one model sets beside the stack's defaults (None: the stack's)."""

    model: str = Field(min_length=1, description="the model preset the recipe is for (`catalog/models`)")
    source: str = Field(min_length=1, description="the recipe's file:line in the framework's package")
    account_for_embedding_in_pipeline_split: bool | None = None
    account_for_loss_in_pipeline_split: bool | None = None
    cuda_graphs: bool | None = None
    grad_reduce_dtype: Literal["fp32", "bf16", "fp16"] | None = None
    adam_moment_dtype: Literal["fp32", "bf16"] | None = None
    optimizer: Literal["adam", "muon"] | None = None
    cross_entropy_impl: Literal["te", "native"] | None = None
    pipeline_layout_plans: tuple[tuple[Annotated[int, Field(ge=2)], Annotated[int, Field(ge=1)]], ...] | None = None

    def settings(self) -> dict[str, Any]:
        """The stack fields the recipe sets, by name."""
        return {k: getattr(self, k) for k in _WORDS if getattr(self, k) is not None}

    def describe(self) -> str:
        """The settings in words: 'the embedding counted as a pipeline layer, CUDA graphs off'."""
        said = []
        for key, value in self.settings().items():
            if isinstance(value, bool):
                said.append(_WORDS[key] if key.startswith("account_for") and value
                            else f"{_WORDS[key]} {'on' if value else 'off'}")
            elif key == "pipeline_layout_plans":
                said.append(f"{_WORDS[key]} {', '.join(f'{p} x {v}' for p, v in value)}")
            else:
                said.append(f"{_WORDS[key]} {value}")
        return ", ".join(said)



def _one_recipe_per_model(recipes: tuple[ModelRecipe, ...]) -> tuple[ModelRecipe, ...]:
    """A stack lists one recipe per model: a second entry for the same model would be silently ignored."""
    models = [r.model for r in recipes]
    twice = sorted({m for m in models if models.count(m) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} listed more than once (one recipe per model)")
    return recipes


ModelRecipes = Annotated[tuple[ModelRecipe, ...], AfterValidator(_one_recipe_per_model)]

class _Carrier(Protocol):
    """What of a `catalog.stacks.Stack` the recipes read (a protocol: that module imports this one)."""

    @property
    def name(self) -> str: ...
    @property
    def model_recipes(self) -> tuple[ModelRecipe, ...]: ...
    @property
    def recipe_model(self) -> str | None: ...
    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self: ...


S = TypeVar("S", bound=_Carrier)
_APPLIED: IdentityMemo[Any] = IdentityMemo(256)  # `stack_for_model` by the stack's identity and the model


def stack_for_model(stack: S, model: str) -> S:
    """`stack` with the recipe its framework ships for `model` (`Stack.model_recipes`); unchanged where the stack has
    none for it or already carries one (`Stack.recipe_model`). Kept by the stack's identity, so a stack and model
    give one object (the one-plan memo is keyed by it, `training.one_plan_memo`)."""
    kept = _APPLIED.get(stack, model)  # (the stack itself where it has no recipe for the model)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    if stack.recipe_model is not None:
        return stack
    recipe = next((r for r in stack.model_recipes if _same_model(model, r.model)), None)
    if recipe is None:
        return _APPLIED.put(stack, model, stack)
    return _APPLIED.put(stack, model, stack.model_copy(update={**recipe.settings(), "recipe_model": recipe.model}))


def _figures(shape: TransformerShape) -> str:
    """Every field of a model's shape but its labels (name, source) and its checkpoint's serving format
    (`CHECKPOINT_FORMAT_FIELDS`: DeepSeek-V3's own config.json, with its fp8 quantization_config, trains as the
    preset), as one comparable string."""
    return json.dumps(shape.model_dump(exclude={"name", "source", *CHECKPOINT_FORMAT_FIELDS}), sort_keys=True)


@cache
def _preset_figures(name: str) -> str | None:
    """`_figures` of a model preset (None: `name` is no preset)."""
    return _figures(load_model(name)) if name in list_presets("models") else None


def _same_model(model: str, recipe_model: str) -> bool:
    """Whether a recipe for `recipe_model` is one for `model`: the same name, or two presets of one figures
    (deepseek-r1 and deepseek-v3)."""
    figures = _preset_figures(model) if model != recipe_model else None
    return model == recipe_model or (figures is not None and figures == _preset_figures(recipe_model))


_KEYS: IdentityMemo[str] = IdentityMemo(256)  # `recipe_key` by the shape's identity


def recipe_key(shape: TransformerShape) -> str:
    """The model `stack_for_model` looks a recipe up by: the preset of the shape's name where the shape has its
    figures, else the first preset with them (a user's copy of a preset's config.json, whatever its file name), else
    the shape's own name (a what-if variant of a preset, or a model of no preset's figures)."""
    kept = _KEYS.get(shape)
    if kept is None:
        name = shape.name
        if not (name in list_presets("models") and load_model(name) is shape):  # a preset by name: itself
            figures = _figures(shape)
            if _preset_figures(name) != figures:
                name = next((p for p in list_presets("models") if _preset_figures(p) == figures), name)
        kept = _KEYS.put(shape, None, name)
    return kept


def recipe_note(stack: _Carrier) -> str | None:
    """The `train` note of the recipe a stack carries: which settings a user of the stack gets for the model.
    The recipe's settings that the stack no longer holds (a caller set its own after applying the recipe, as the
    frontier validation rows' performance configurations do: H021 runs CUDA graphs and TE's loss where its recipe
    sets graphs off and the native loss) are said with the value run, not the recipe's (hF77)."""
    recipe = next((r for r in stack.model_recipes if r.model == stack.recipe_model), None)
    if recipe is None:
        return None
    replaced = {k: getattr(stack, k) for k, v in recipe.settings().items() if getattr(stack, k, v) != v}
    kept = recipe.model_copy(update=dict.fromkeys(replaced)).describe()
    note = (f"stack {stack.name} runs {recipe.model} with its own recipe's settings: "
            f"{kept or 'none beyond the stack defaults'} ({recipe.source})")
    if replaced:
        run = recipe.model_copy(update={k: replaced.get(k) for k in recipe.settings()})
        note += f"; this run sets instead: {run.describe()}"
    return note
