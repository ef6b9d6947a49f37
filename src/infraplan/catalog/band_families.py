"""Does an error band carry over to an accelerator family no validation case measures? (hU59, session 45)

An answer on a family with no case of its kind and metric (MI355X, MTIA, TPU, Gaudi, Rubin training; Blackwell or
CDNA TTFT, whose cases are all Hopper) takes the every-family band of `catalog.error_bands.error_band`. The
conformal promise of that band (a new campaign's case inside with probability >= 80 %) holds for a campaign
exchangeable with the pool's; a campaign on an unmeasured family is not: its family's bias (kernels, compiler,
interconnect, the engine's port to it) has never been seen. What the residuals can show is how a band built
without one family has done on that family: leave each validated family out in turn, build the band of the rest by
the same rule, and count the share of the left-out family's cases inside it (the family-level analogue of the
leave-one-campaign-out check in tests/validation/test_band_coverage.py).

On the stored residuals (catalog/error_bands.yaml, 2026-12-04): training on the default stack held 70 % of the
Blackwell cases, 100 % of the Ampere and Hopper ones; serving throughput re-run on sglang-0.x 82 % (Blackwell),
80 % (CDNA3), 85 % (Hopper); serving TTFT has one family only (Hopper), so nothing shows its band carries over.
Those families are GPUs; an MTIA, TPU or Gaudi answer stands further off, which the basis says by naming the
cases' families. ASSUMPTION: an unmeasured family's bias lies within what the held-out validated families show;
the basis states the held shares so a reader can judge, and says "outside the validated accelerators".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

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
    `catalog.band_stack_transfer`), in sorted order: each value left out, the band `band_of` builds from the other
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
