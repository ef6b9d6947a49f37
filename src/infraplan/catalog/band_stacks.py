"""Which stack an answer's error band is keyed by (`catalog.error_bands`): a training answer by its stack's name or
class, a serving answer by a shipped serving profile or its engine; an answer on its kind's default stack (serving:
on a shipped profile, hV45) as shipped, whatever the file is called, is named as that stack so that
`error_bands.band_settings` gives it the cases re-run on it (hB40, hB41).
"""

from __future__ import annotations

from collections.abc import Sequence

from infraplan.catalog import error_bands
from infraplan.catalog.band_lengths import beyond_validated_length
from infraplan.catalog.error_bands import DEFAULT_SETTINGS, RERUN_SERVING_STACKS, ErrorBand, error_band, stack_class
from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stack_files import same_settings
from infraplan.catalog.stacks import DEFAULT_SERVING_STACK, DEFAULT_TRAINING_STACK, Stack, list_stacks, load_stack


def band_stack(stack: Stack) -> str:
    """What error bands and the published-MFU ceiling class a training stack by (`catalog.error_bands.stack_class`):
    a shipped stack's name (the stored residuals are labelled by it), a user's file its `stack_class` field (its
    file name said nothing: a copy of nemo-26.04 named mine.yaml took the any-stack band as "stack class mine").
    The default training stack's name only for its settings as shipped (with its model recipe), whatever the name (a
    copy saved as mine.yaml): its answers take the default-stack band (`catalog.error_bands.band_settings`, hB40);
    the same name with other settings (--sharp, offloaded layers, a Stack built in code) its class."""
    if stack.name == DEFAULT_TRAINING_STACK or stack.name not in list_stacks():
        return DEFAULT_TRAINING_STACK if _default_settings(stack) else stack.stack_class
    return stack.name


def _default_settings(stack: Stack) -> bool:
    """Whether `stack` has every setting of the default training stack as shipped (its recipe for the model the
    stack carries one of included); labels aside, as `stack_files.named_like_preset` compares."""
    shipped = load_stack(DEFAULT_TRAINING_STACK)
    if stack.recipe_model is not None:
        shipped = stack_for_model(shipped, stack.recipe_model)
    return same_settings(stack, shipped)


def serving_band_stack(ref: str, changed: Sequence[str] = ()) -> str:
    """What a serving answer on the stack `ref` (a shipped profile's name or a YAML path: `ServingEngine.ref`) is
    banded by: the name of the shipped profile it has the settings of, as shipped, whatever the name (a copy saved
    as mine.yaml; `band_settings` then takes the cases re-run on that profile: trtllm-0.x hB41, vllm-0.x and
    sglang-0.x hV45, `error_bands.RERUN_SERVING_STACKS`), else its engine (trtllm, vllm, sglang), the class the
    cases' own residuals are labelled by, as before. `changed`: the engine settings the answer runs otherwise than
    the stack's defaults (`serving.engines.changed_engine_settings`: `serve --max-batch 64`, `--token-budget`,
    draft tokens), which the re-run rows do not have (`validation.serving_band_reruns.shipped_profile`): any bands
    the answer by its engine, as a stack file with a setting of its own is (hN42)."""
    stack = load_stack(ref)
    if not changed:
        for name in RERUN_SERVING_STACKS:
            if same_settings(stack, load_stack(name)):
                return name
    return stack.serving.engine if stack.serving is not None else stack.stack_class


def _rerun_stored(ref: str) -> bool:
    """Whether the stored residuals hold serving rows re-run on the shipped profile `ref` (a file written before
    hV45 holds trtllm-0.x's only)."""
    return bool(error_bands.load_residuals("serving", DEFAULT_SETTINGS, stack_class(ref), True))


def settings_basis(band: ErrorBand | None, ref: str, changed: Sequence[str]) -> ErrorBand | None:
    """`band` (of `serving_band_stack(ref, changed)`) with its basis saying why an answer on the default serving
    stack is not banded by the rows re-run on it: its engine settings `changed` are not the stack's as shipped."""
    shipped = serving_band_stack(ref)
    if band is None or not changed or shipped not in RERUN_SERVING_STACKS:
        return band
    return band.model_copy(update={"basis": (
        f"{band.basis}; the answer's engine settings are not {shipped}'s defaults, so it takes the rows "
        f"on their measurements' settings, as a stack with settings of its own does: {'; '.join(changed)}")})


def vendor_default_basis(band: ErrorBand | None, ref: str, defaulted: bool) -> ErrorBand | None:
    """`band` of an answer priced on `ref` because no --stack was given and the part's vendor does not run the
    default serving stack (`stack_placement.default_serving_stack`: vllm-0.x on AMD and Google parts, sglang-0.x on
    Intel's), its basis saying so: the band is of the rows re-run on that stack where they are stored (hV45), else
    (a file written before) it says that none is, so the rows on their measurements' settings band it (hV42)."""
    if band is None or not defaulted or ref == DEFAULT_SERVING_STACK:
        return band
    if _rerun_stored(ref):  # its own re-run rows band it, as the default stack's band NVIDIA's answers (hV45)
        return band.model_copy(update={"basis": (
            f"{band.basis}; {ref} is the default serving stack on this part's vendor, not {DEFAULT_SERVING_STACK}")})
    return band.model_copy(update={"basis": (
        f"{band.basis}; {ref} is the default serving stack on this part's vendor, not {DEFAULT_SERVING_STACK}, and no "
        f"serving row is re-run on it as a default answer (the default-stack rows are re-runs on "
        f"{DEFAULT_SERVING_STACK}): the rows on their measurements' settings band it")})


def serving_answer_band(accelerator: str, ref: str, changed: Sequence[str], defaulted: bool,
                        metric: str = "throughput", context_tokens: float = 0.0) -> ErrorBand | None:
    """The error band of a serving answer on the stack `ref` (`serve`'s and `serve-plan`'s one rule), of `metric`
    (throughput or ttft): keyed by `serving_band_stack(ref, changed)`, its basis naming engine settings changed from
    the stack's (`settings_basis`), a vendor's default stack (`vendor_default_basis`; `defaulted`: no stack
    was asked) and a mean prompt + output `context_tokens` beyond every case's (`catalog.band_lengths`, hU59)."""
    band = error_band(accelerator, serving_band_stack(ref, changed), "serving", metric=metric)
    band = vendor_default_basis(settings_basis(band, ref, changed), ref, defaulted)
    return beyond_validated_length(band, "serving", context_tokens)
