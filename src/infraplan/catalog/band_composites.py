"""The error band of a composite's additive total (a fleet's, a campus's, a scenario's IT power or cost over its
sites and pools): `envelope` of its parts' bands, each part banded as its own answer (`error_bands.band_and_basis`).

A sum's relative error is a weighted mean of its parts' (sum predicted / sum measured - 1 = sum m_i r_i / sum m_i),
so it lies within the parts' lowest low and highest high; a part without a band leaves the total without one
(`error_bands`' module docstring, "Infrastructure answers", hE40). Its pool is every part's cases, each once
(`band_cases.pool_cases`, hF60). Moved out of `error_bands` unchanged (hO, session 60).
"""

from __future__ import annotations

from collections.abc import Sequence

from infraplan.catalog import band_cases
from infraplan.catalog.band_cases import merged
from infraplan.catalog.error_bands import ErrorBand, band_and_basis
from infraplan.catalog.loader import load_accelerator, load_system
from infraplan.errors import InputError


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
    video ASIC, a CPU pool) as named."""
    try:
        return load_accelerator(device).catalog_name
    except InputError:
        pass
    try:
        return load_accelerator(load_system(device).accelerator).catalog_name
    except InputError:  # a video ASIC, a CPU pool: banded (or not) by its name
        return device
