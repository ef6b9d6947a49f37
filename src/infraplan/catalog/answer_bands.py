"""The error band of an answer, from the question it asks `catalog.error_bands`: which stack it is keyed by
(`band_stack`, `serving_band_stack`), what its basis adds (engine settings changed from a shipped profile's, a
vendor's default stack, a length beyond every case's) and a composite's band from its parts' (`envelope`,
`parts_band`). Merged from band_stacks.py, band_lengths.py and band_composites.py unchanged (hM, session 62).

Stack key (formerly band_stacks.py). Which stack an answer's error band is keyed by (`catalog.error_bands`): a training
answer by its stack's name or class, a serving answer by a shipped serving profile or its engine; an answer on its
kind's default stack (serving: on a shipped profile, hV45) as shipped, whatever the file is called, is named as that
stack so that `error_bands.band_settings` gives it the cases re-run on it (hB40, hB41).

Validated lengths (formerly band_lengths.py): Is an answer longer than every case behind its error band? (hU59, session
45.) The band of a training or serving answer is built from validation cases of its kind whatever their sequence length
(`catalog.error_bands`), but what the model gets wrong changes with length: attention's share of the FLOPs and of the KV
reads, activation memory and recompute, context parallelism, the prefill's chunking. The cases behind the bands ran
short sequences: training at most 8,192 tokens, serving at most 10,000 tokens of prompt + output
(`catalog/validated_lengths.yaml`, with sources). A 128k-context `serve` or a 131,072-token `train` is 13-16x longer
than any of them, so its band says nothing measured of that length, and the basis says so instead of reading as if it
applied as it does at 4k. ASSUMPTION: below the longest validated length the band is taken to hold (the cases span
2,048-8,192 tokens for training and 128-10,000 for serving; shorter ones are not flagged).

Composites (formerly band_composites.py). The error band of a composite's additive total (a fleet's, a campus's, a
scenario's IT power or cost over its sites and pools): `envelope` of its parts' bands, each part banded as its own
answer (`error_bands.band_and_basis`). A sum's relative error is a weighted mean of its parts' (sum predicted / sum
measured - 1 = sum m_i r_i / sum m_i), so it lies within the parts' lowest low and highest high; a part without a band
leaves the total without one (`error_bands`' module docstring, "Infrastructure answers", hE40). Its pool is every part's
cases, each once (`band_cases.pool_cases`, hF60). Moved out of `error_bands` unchanged (hO, session 60).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from pydantic import Field

from infraplan.catalog import band_cases, error_bands
from infraplan.catalog.band_cases import merged
from infraplan.catalog.error_bands import (
    DEFAULT_SETTINGS,
    RERUN_SERVING_STACKS,
    ErrorBand,
    band_and_basis,
    error_band,
    stack_class,
)
from infraplan.catalog.loader import load_accelerator, load_system
from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stack_files import same_settings
from infraplan.catalog.stacks import DEFAULT_SERVING_STACK, DEFAULT_TRAINING_STACK, Stack, list_stacks, load_stack
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.errors import InputError
from infraplan.results import Result


class ValidatedLength(Result):
    """The longest sequence a kind's validation cases ran (catalog/validated_lengths.yaml)."""

    kind: str = Field(description="workload kind: training | serving")
    tokens: int = Field(gt=0, description="the longest validated length (tokens)")
    what: str = Field(description="which length: a training sequence, or a serving request's prompt + output")
    source: str = Field(description="the validation cases it is read from")


@lru_cache(maxsize=1)
def validated_lengths() -> dict[str, ValidatedLength]:
    text = (resources.files("infraplan.catalog") / "validated_lengths.yaml").read_text()
    entries = [ValidatedLength(**e) for e in safe_load_yaml(text)["lengths"]]
    return {e.kind: e for e in entries}


def beyond_validated_length(band: ErrorBand | None, kind: str, tokens: float) -> ErrorBand | None:
    """`band` with its basis saying the answer's length `tokens` is beyond the longest validated one of `kind`
    (module docstring); unchanged at or below it, for a kind with no entry, or without a band."""
    longest = validated_lengths().get(kind)
    if band is None or longest is None or tokens <= longest.tokens:
        return band
    return band.model_copy(update={"basis": (
        f"{band.basis}; outside the validated lengths: this answer's {longest.what} of {tokens:,.0f} tokens is "
        f"{tokens / longest.tokens:.1f}x the longest of the cases behind this band ({longest.tokens:,} tokens), "
        f"so no measurement shows the band holds at this length")})


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
    the answer by its engine, as a stack file with a setting of its own is (hN42). A profile with an `assumption` (no
    measurement of its engine: pytorch-mtia) by its own class, which no validation case ran (hM69)."""
    stack = load_stack(ref)
    if not changed:
        for name in RERUN_SERVING_STACKS:
            if same_settings(stack, load_stack(name)):
                return name
    if stack.serving is None or stack.serving.assumption is not None:  # an ASSUMPTION profile: its own class, which
        return stack.stack_class  # no case ran, so its basis opens with that (`band_transfer.stack_widening`, hM69)
    return stack.serving.engine


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
    was asked) and a mean prompt + output `context_tokens` beyond every case's (`beyond_validated_length`, hU59)."""
    band = error_band(accelerator, serving_band_stack(ref, changed), "serving", metric=metric)
    band = vendor_default_basis(settings_basis(band, ref, changed), ref, defaulted)
    return beyond_validated_length(unvalidated_basis(band, ref), "serving", context_tokens)


def unvalidated_basis(band: ErrorBand | None, ref: str) -> ErrorBand | None:
    """`band` of an answer on a serving profile with no measurement of its engine (its `assumption`: pytorch-mtia,
    hM69), its basis opened by saying it has no validation basis: its cases are other stacks' on other parts, lent."""
    stack = load_stack(ref)
    if band is None or stack.serving is None or stack.serving.assumption is None:
        return band
    return band.model_copy(update={"basis": (
        f"no validation basis: no validation case ran on stack {stack.name}, an ASSUMPTION profile, so the band "
        f"is other stacks' cases on other parts, lent (ASSUMPTION: its error within theirs); {band.basis}")})


def envelope(bands: Sequence[ErrorBand | None], what: str) -> ErrorBand | None:
    """The band of a sum of parts, each in its band ("Infrastructure answers"): sum predicted / sum measured - 1 =
    sum m_i r_i / sum m_i, a weighted mean of the parts' residuals r_i, so it lies within [min low, max high];
    None when any part has no band (that part's error is unknown). Its `cases` are the cases of every part's pool,
    each once (`band_cases.pool_cases`; before hF60, the widest part's count alone), its basis names each part's."""
    if not bands or any(b is None for b in bands):
        return None
    known = [b for b in bands if b is not None]
    widest = max(known, key=lambda b: b.cases)
    same = all((b.low, b.high, b.cases) == (known[0].low, known[0].high, known[0].cases) for b in known)
    cases, campaigns = merged((c for b in known for c in b.cases_used), (c for b in known for c in b.campaigns_used))
    count = band_cases.pool_cases([(b.cases_used, b.campaigns_used, b.cases) for b in dict.fromkeys(known)])
    pool = f"{count:,} cases" + (f" of {len(campaigns)} campaigns" if campaigns else "") + " in all (the parts': "
    return ErrorBand(low=min(b.low for b in known), high=max(b.high for b in known), cases=count,
                     cases_used=cases, campaigns_used=campaigns,
                     basis=(f"{what}: " + (known[0].basis if same and count == known[0].cases else
                            f"the envelope of its {len(known)} parts' bands (a sum's relative error is a weighted "
                            f"mean of its parts'), {pool}{', '.join(f'{b.cases:,}' for b in known)})"
                            f"; the widest-pool part's: {widest.basis}")))


def parts_band(accelerators: Sequence[str], stack: str | None, kind: str, metric: str, what: str,
               not_validated: str = "") -> tuple[ErrorBand | None, str]:
    """A composite's additive total over parts on `accelerators` (a fleet's sites, a plan's pools): `envelope` of
    the parts' bands, or none when a part has none (its basis says why); `not_validated`, what else the answer rests
    on that no validation case checks, is appended to the basis."""
    found = [band_and_basis(preset_of(a), stack, kind, metric) for a in dict.fromkeys(accelerators)]
    band = envelope([b for b, _ in found], what)
    why = next((basis for b, basis in found if b is None), "no parts")
    basis = band.basis if band is not None else f"{what}: {why}"
    return band, f"{basis}; {not_validated}" if not_validated else basis


def preset_of(device: str) -> str:
    """A part's catalog name (a copy or what-if file: its preset's, as `train` bands it; a system: its
    accelerator's, hU41: a plan's meta-genai-roce-24k pool was named as an accelerator family); other devices (a
    video ASIC, a CPU pool) as named, a video device's file by its `name` (hN75: its path was the band's family)."""
    from infraplan.catalog.inference_loader import is_video_device, load_video_device  # not on train's path

    if is_video_device(device):
        return load_video_device(device).name
    try:
        return load_accelerator(device).catalog_name
    except InputError:
        pass
    try:
        return load_accelerator(load_system(device).accelerator).catalog_name
    except InputError:  # a CPU pool: banded (or not) by its name
        return device
