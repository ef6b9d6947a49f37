"""Does an error band carry over to what no validation case measured: an accelerator family (hU59, session 45) or a
software stack (hA, session 52)? `catalog.error_bands.error_band` asks both of every training and serving answer.
Merged from band_families.py and band_stack_transfer.py unchanged (hM, session 62).

Accelerator families (formerly band_families.py). An answer on a family with no case of its kind and metric (MI355X,
MTIA, TPU, Gaudi, Rubin training; Blackwell or CDNA TTFT, whose cases are all Hopper) takes the every-family band of
`catalog.error_bands.error_band`. The conformal promise of that band (a new campaign's case inside with probability >=
80 %) holds for a campaign exchangeable with the pool's; a campaign on an unmeasured family is not: its family's bias
(kernels, compiler, interconnect, the engine's port to it) has never been seen. What the residuals can show is how a
band built without one family has done on that family: leave each validated family out in turn, build the band of the
rest by the same rule, and count the share of the left-out family's cases inside it (the family-level analogue of the
leave-one-campaign-out check in tests/validation/test_band_coverage.py).

On the stored residuals (catalog/error_bands.yaml, 2026-12-04): training on the default stack held 70 % of the
Blackwell cases, 100 % of the Ampere and Hopper ones; serving throughput re-run on sglang-0.x 82 % (Blackwell),
80 % (CDNA3), 85 % (Hopper); serving TTFT has one family only (Hopper), so nothing shows its band carries over.
Those families are GPUs; an MTIA, TPU or Gaudi answer stands further off, which the basis says by naming the
cases' families. ASSUMPTION: an unmeasured family's bias lies within what the held-out validated families show;
the basis states the held shares so a reader can judge, and says "outside the validated accelerators".

Software stacks (formerly band_stack_transfer.py). An answer on a stack class with no case of its kind and metric
(training under `--stack deepspeed` or `torchtitan`: every training case ran a Megatron-class stack, Megatron-LM /
Megatron-Bridge / Meta's) took the band of the other classes' cases, and its basis said only "any stack". The conformal
promise of that band (a new campaign's case inside with probability >= 80 %, `catalog.error_bands`) holds for a campaign
exchangeable with the pool's; a campaign on an unmeasured stack is not: its profile (`catalog/stacks/<name>.yaml`:
overlap, fusion, recompute, kernel rates) has never been checked against a measurement, and the cases cannot show how
far it is off. Session 52's out-of-sample check (validation/notes/training_sets_tried.md, "hH"; every figure RECALLED)
found the training model +23..+50 % on five Megatron-DeepSpeed runs and +56..+77 % on two torchtitan runs, while that
band was -5.9..+26.1 %: it held 2 of the 9 steady-state rows.

Where the pool holds >= 2 stack classes and each left out leaves a band of the others (serving: trtllm, vllm,
sglang), the leave-one-class-out shares are the evidence, as `family_transfer` gives them for
families: the band is kept and its basis states them (`stack_transfer`). Where it does not (training: every case
is of class megatron, Meta's Llama 3 rows too as meta-llama3.yaml declares, hN53), nothing shows a band carries over
to another stack. What the stored
residuals do measure is how far a stack's settings move a validated case's prediction: every case is also re-run on
the default stack (`settings: default`, hB40 / hB41 / hV45), the same plan and published figure on another profile,
so (1 + re-run residual) / (1 + own residual) is the factor by which pricing it on settings it did not run moved the
prediction (`settings_swing`, as |ln| of it). The rule: such an answer takes the band the pools give, 1 + low
divided and 1 + high multiplied by the swing's upper end (exp of the conformal k_hi-th of one |ln factor| drawn per
campaign, `catalog.error_bands.campaign_band`'s high end: a new campaign's below it with probability >= 90 % from 9
campaigns on; below 9 the largest), and its basis says so first. A prediction whose settings error is at most that
factor, on a residual inside [low, high], lies inside the widened band: ASSUMPTION, that an unvalidated profile
misses its stack's settings by no more than the default profile misses a validated case's (training: factor 1.438
from 28 cases of 9 campaigns, the band -5.9..+26.1 % -> -34.5..+81.4 %). The recalled out-of-sample rows only
check the rule, they did not set it (coverage before / after in validation/notes/error_bands_tried.md, hA).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from pydantic import BaseModel

from infraplan.catalog.loader import looks_like_path
from infraplan.catalog.stacks import list_stacks, load_stack
from infraplan.errors import InputError

# the kinds whose answers run on an accelerator's own kernels (a facility or network figure does not: its
# cases' "any" family covers every accelerator, and its pools are banded by full range anyway)
FAMILY_KINDS = ("training", "serving")

# accelerator catalog name -> architecture family (NVIDIA's generations; other vendors by product line)
# (each derivative as its catalog file states: h800.yaml "the H100 SXM5 die", b300/gb300.yaml Blackwell Ultra with
# "bf16 as B200/GB200", mi325x.yaml "the MI300X compute die"; MI355X is CDNA 4, not the MI300X die: its own family;
# TPU and MTIA generations by product line. Without them an H800 or GB300 answer took the any-accelerator band and
# the best-of-any-family MFU ceiling.)
ACCELERATOR_FAMILIES = {
    "a100-80gb": "ampere", "h100-sxm": "hopper", "h200": "hopper", "h800": "hopper", "b200": "blackwell",
    "gb200": "blackwell", "b300": "blackwell", "gb300": "blackwell", "gaudi2": "gaudi", "mi300x": "cdna3",
    "mi325x": "cdna3", "mi355x": "cdna4", "tpu-v5p": "tpu", "tpu-v6e": "tpu", "mtia-v1": "mtia", "mtia-v2": "mtia",
    "mtia-300": "mtia", "mtia-400": "mtia", "mtia-450": "mtia",
}


def accelerator_family(accelerator: str) -> str:
    return ACCELERATOR_FAMILIES.get(accelerator, accelerator)


BandOf = Callable[[list[float], list[str]], tuple[float, float] | None]
"""A band rule: (residuals, their campaigns) -> (low, high), None where it builds none (`catalog.error_bands`)."""


class _Residual(Protocol):
    @property
    def residual(self) -> float: ...
    @property
    def group(self) -> str: ...


class _Case(_Residual, Protocol):
    @property
    def family(self) -> str: ...


R = TypeVar("R", bound=_Residual)


def held_out(pool: Sequence[R], key: Callable[[R], str],
             band_of: BandOf) -> Iterator[tuple[str, tuple[float, float] | None, str]]:
    """The leave-one-out check (module docstring) over the values of `key` in `pool` (a family here, a stack class in
    `stack_transfer`), in sorted order: each value left out, the band `band_of` builds from the other
    cases (None where it builds none or no case is left) and the left-out cases' share inside it, as the basis says
    it ("80% of hopper's 20"; "" without a band)."""
    for left_out in sorted({key(r) for r in pool}):
        rest = [r for r in pool if key(r) != left_out]
        band = band_of([r.residual for r in rest], [r.group for r in rest]) if rest else None
        mine = [r.residual for r in pool if key(r) == left_out]
        inside = "" if band is None else f"{sum(band[0] <= v <= band[1] for v in mine) / len(mine):.0%}"
        yield left_out, band, inside and f"{inside} of {left_out}'s {len(mine):,}"


def family_unvalidated(pool: Sequence[_Case], family: str, kind: str) -> bool:
    """True when `family` has no case in `pool` (a kind's residuals of one metric and settings) and the answer's
    kind runs on the accelerator's kernels (`FAMILY_KINDS`); a case of family "any" covers every family."""
    return kind in FAMILY_KINDS and bool(pool) and not any(r.family in (family, "any") for r in pool)


def family_transfer(pool: Sequence[_Case], family: str, band_of: BandOf) -> str:
    """What the basis of an answer on an unvalidated `family` adds (module docstring): the leave-one-family-out
    shares of each validated family's cases inside the band `band_of` (values, campaigns) builds from the other
    families' cases, or that the pool is of one family only and nothing shows the band carries over."""
    families = sorted({r.family for r in pool})
    if len(families) < 2:
        return (f"every case is {families[0] if families else 'of no family'}: no measurement shows this band holds "
                f"on {family}, so it carries no coverage claim there")
    held = [text for _, band, text in held_out(pool, lambda r: r.family, band_of) if band is not None]
    if not held:
        return f"too few campaigns to check whether a band carries over to another family, {family} included"
    return ("left out one family at a time, the band of the other families' cases held " + ", ".join(held)
            + f" cases (ASSUMPTION: {family}'s bias within what these show)")


Band = TypeVar("Band", bound=BaseModel)

# an engine's or a class's own name (not a stack file's) by prefix -> its stack class (`stack_class`'s fallback: the
# serving rows' engines, trtllm-0.19 ...; NeMo and Megatron-Bridge are Megatron-core underneath)
STACK_CLASSES = {"megatron": "megatron", "nemo": "megatron", "deepseek": "megatron", "deepspeed": "deepspeed",
                 "torchtitan": "torchtitan", "trtllm": "trtllm", "vllm": "vllm", "sglang": "sglang"}
# the kinds whose answers run on a software stack's kernels and settings (a facility or network figure does not)
STACK_KINDS = ("training", "serving")
CASE_SETTINGS, DEFAULT_SETTINGS = "case", "default"  # as catalog.error_band_rows names them


class _Row(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def stack(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def settings(self) -> str: ...
    @property
    def residual(self) -> float: ...
    @property
    def group(self) -> str: ...


def stack_unvalidated(pool: Sequence[_Row], cls: str, kind: str) -> bool:
    """True when the stack class `cls` has no case in `pool` (a kind's residuals of one metric, on the settings the
    cases ran) and the answer's kind runs on a stack (`STACK_KINDS`)."""
    return kind in STACK_KINDS and bool(pool) and not any(r.stack == cls for r in pool)


def settings_swing(rows: Sequence[_Row], kind: str, metric: str, band_of: BandOf) -> tuple[float, int, int] | None:
    """How far re-pricing a validated case on another stack's settings moved its prediction: (swing, pairs,
    campaigns) over each re-run row of `kind` and `metric` in `rows` paired with its case's own row (same id), each
    |ln((1 + re-run residual) / (1 + own residual))|, the swing being `band_of`'s high end of them by campaign (the
    largest below 9 campaigns, as `band_of` gives the full range); None when no case is stored both ways."""
    own = {r.id: r.residual for r in rows if r.kind == kind and r.metric == metric and r.settings == CASE_SETTINGS}
    pairs = [(abs(math.log((1.0 + r.residual) / (1.0 + own[r.id]))), r.group) for r in rows if r.kind == kind
             and r.metric == metric and r.settings == DEFAULT_SETTINGS and r.id in own]
    if not pairs:
        return None
    values, campaigns = [p[0] for p in pairs], [p[1] for p in pairs]
    band = band_of(values, campaigns)
    return (band[1] if band is not None else max(values)), len(pairs), len(set(campaigns))


def stack_transfer(of_kind: Sequence[_Row], band_of: BandOf) -> str | None:
    """The leave-one-class-out check (`family_transfer`'s, by stack class): the share of each
    validated class's cases inside the band `band_of` builds from the other classes' cases; None unless the pool
    holds >= 2 classes and every class left out leaves a band (training: one class, megatron, hN53; before, the
    Megatron class left out left Meta's one campaign, no band: nothing shows a band carries over to another stack)."""
    held = []
    for _, band, text in held_out(of_kind, lambda r: r.stack, band_of):  # (`held_out`)
        if band is None:
            return None
        held.append(text)
    return ", ".join(held) if len(held) >= 2 else None


def stack_widening(of_kind: Sequence[_Row], rows: Sequence[_Row], cls: str, stack: str | None, kind: str,
                   metric: str, label: str, band_of: BandOf) -> tuple[str, float] | None:
    """What an answer on stack class `cls` (`stack`: its name) of `kind` and `metric` adds to its band: None where
    `of_kind` (the cases on their own settings) holds a case of the class; else its basis' opening words and the
    swing its ends widen by: 0 where the other classes show a band carries over (`stack_transfer`, the shares
    said) or where `rows`, every stored row of the kind, hold no re-run to measure it (`settings_swing`)."""
    if not stack_unvalidated(of_kind, cls, kind):
        return None
    classes, named = sorted({r.stack for r in of_kind}), cls if stack in (None, cls) else f"{cls} ({stack})"
    head = (f"no validated {label} case of stack class {named}: the band of the other classes' cases "
            f"({', '.join(classes)})")
    if (shares := stack_transfer(of_kind, band_of)) is not None:
        return (f"{head}, not widened: left out one class at a time, the band of the other classes' cases held "
                f"{shares} cases (ASSUMPTION: {cls}'s bias within what these show)"), 0.0
    swing = settings_swing(rows, kind, metric, band_of)
    if swing is None:
        return (f"{head}, not widened (no case is stored re-run on another stack's settings to measure how far a "
                f"profile's settings move the error): no case shows it holds on {cls}"), 0.0
    value, pairs, campaigns = swing
    how = "conformal upper end over campaigns" if campaigns >= 9 else "largest, fewer than 9 campaigns"
    return (f"{head}, each end widened by the factor {math.exp(value):.3f} (1 + low divided by it, 1 + high "
            f"multiplied), the {how} of the factor by which re-pricing a validated case on the default stack's "
            f"settings moved its prediction ({pairs:,} cases of {campaigns} campaigns; "
            f"no class left out leaves a band to show one carries over to another stack; ASSUMPTION: the {cls} "
            f"profile misses its stack's settings by no more; no case shows the band holds on {cls})"), value


def on_stack(band: Band, unstacked: tuple[str, float] | None) -> Band:
    """`band` (an `ErrorBand`), on a stack class no case ran (`unstacked`: `stack_widening`'s), each end widened by
    the swing and its basis opened by what it says; as it is otherwise."""
    if unstacked is None:
        return band
    words, swing = unstacked
    ends, factor = band.model_dump(include={"low", "high", "basis"}), math.exp(swing)
    if swing == 0.0:  # not widened: the ends as they are, not round-tripped through the factor
        return band.model_copy(update={"basis": f"{words}; {ends['basis']}"})
    return band.model_copy(update={"low": (1.0 + ends["low"]) / factor - 1.0,
                                   "high": (1.0 + ends["high"]) * factor - 1.0,
                                   "basis": f"{words}; {ends['basis']}"})


def stack_class(stack: str | None) -> str:
    """The class of a stack (None: the default training stack's, megatron): the `stack_class` its file declares, a
    shipped profile's name or a stack file's path (hN, session 53: the name's prefix was read before, so meta-llama3,
    declared megatron, was its own class "meta", and a file named mine.yaml the class "mine"); else (an engine's or a
    class's own name, a file that does not load) by its name's prefix (`STACK_CLASSES`), else its first word."""
    if not stack:
        return "megatron"
    declared = _declared_class(stack)
    if declared is not None:
        return declared
    name = stack.rsplit("/", 1)[-1]
    return next((cls for prefix, cls in STACK_CLASSES.items() if name.startswith(prefix)), name.split("-")[0])


def _declared_class(stack: str) -> str | None:
    """The `stack_class` the stack file `stack` (a shipped name or a path) declares; None where it is neither or
    does not load (its one line is said where the answer loads it); `load_stack` keeps each file read once."""
    if stack not in list_stacks() and not looks_like_path(stack):
        return None
    try:
        return load_stack(stack).stack_class
    except (InputError, OSError):
        return None
