"""Which validation cases an error band comes from (issue 12: "computed from the validation residuals of the cases
nearest to the question"; hF59's review: "-8 % .. +12 % from 9 campaigns" named no case a user could look up).

`error_band` pools residuals (catalog/error_bands.py); the pool it builds the band from is named here, as stored
(catalog/band_residuals/, written by `validation.bands.write_error_bands` with each row's case id and campaign):

* `cases_used`: every case of the pool, its id (the `id` of its row in validation/cases or validation/data), its
  residual (a fraction: predicted / measured - 1 of the band's metric, as the band's ends) and its campaign, in the
  stored rows' order, where the pool holds at most `LISTED_CASES_MAX` cases (training 28-31, network 4-172,
  facility 3, recsys 4). A serving pool holds 700-2,000 rows (every Hopper or Blackwell row re-run on one shipped
  profile): listing them would put ~150 kB in every `serve --json` (6.5 kB) and in every point of a sweep (a list
  is one JSON cell, `sweep.results`), so there it is empty and `campaigns_used` names them.
* `campaigns_used`: every campaign of the pool (the unit the band draws one case from), its case count and its
  residuals' range, by name; always given (serving: 20-45 campaigns).

A composite's band (`answer_bands.envelope`) names its parts' cases and campaigns, each once, and counts its
`cases` as the cases of its parts' pools, each once (`pool_cases`), not the widest part's alone (hF, session 60).
Each band's `cases_line` (`nearest_line`) names a few of its cases in one line, the one the CLI prints under it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from pydantic import Field

from infraplan.results import Result

LISTED_CASES_MAX = 200  # the largest pool whose cases a band lists one by one (module docstring)


class BandCase(Result):
    """One validation case a band comes from."""

    case: str = Field(description="the validation case id (its row's `id` in validation/cases or validation/data)")
    residual: float = Field(description="the case's residual, a fraction: predicted / measured - 1 of the band's "
                                        "metric (throughput, TTFT, busbw, IT power, ...), as the band's low / high")
    campaign: str = Field(description="the measurement campaign it belongs to (source, model, engine release); the "
                                      "case id where the case is its own")


class BandCampaign(Result):
    """One measurement campaign a band comes from: the band draws one case of each (catalog/error_bands.py)."""

    campaign: str = Field(description="the campaign (source, model, engine release; a case id: a case of its own)")
    cases: int = Field(description="its cases in the band's pool (count)")
    residual_min: float = Field(description="its lowest residual (fraction; predicted / measured - 1)")
    residual_max: float = Field(description="its highest residual (fraction; predicted / measured - 1)")


class _Row(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def residual(self) -> float: ...
    @property
    def group(self) -> str: ...


def cases_used(found: Sequence[_Row]) -> tuple[tuple[BandCase, ...], tuple[BandCampaign, ...]]:
    """The pool `found`'s cases (none above `LISTED_CASES_MAX`) and campaigns (by name), as the band names them."""
    cases = () if len(found) > LISTED_CASES_MAX else tuple(
        BandCase(case=r.id, residual=r.residual, campaign=r.group) for r in found)
    groups: dict[str, list[float]] = {}
    for r in found:
        groups.setdefault(r.group, []).append(r.residual)
    return cases, tuple(BandCampaign(campaign=name, cases=len(values), residual_min=min(values),
                                     residual_max=max(values)) for name, values in sorted(groups.items()))


def merged(cases: Iterable[BandCase], campaigns: Iterable[BandCampaign]) -> tuple[tuple[BandCase, ...],
                                                                                  tuple[BandCampaign, ...]]:
    """Several bands' cases and campaigns, each entry once (a composite's parts often share one pool), a campaign
    once by name: where parts' pools hold it with different rows (a serving campaign re-run on each part's shipped
    profile: H100 + B200 pools listed 7 of their 45 campaigns twice, 52 entries, hN59) its rows in every part's pool,
    counted and ranged together."""
    by_name: dict[str, BandCampaign] = {}
    for c in dict.fromkeys(campaigns):
        held = by_name.get(c.campaign)
        by_name[c.campaign] = c if held is None else BandCampaign(
            campaign=c.campaign, cases=held.cases + c.cases, residual_min=min(held.residual_min, c.residual_min),
            residual_max=max(held.residual_max, c.residual_max))
    return tuple(dict.fromkeys(cases)), tuple(sorted(by_name.values(), key=lambda c: c.campaign))


def nearest_line(cases: Sequence[BandCase], campaigns: Sequence[BandCampaign]) -> str:
    """One short line naming a few of the cases of a band's pool (its `cases_used`, `campaigns_used`): the lowest,
    median and highest residual, or, where the pool is too large to list, its campaigns of the lowest and highest
    residual; '' when it names none. The band carries it as `cases_line` (`with_cases_line`): the CLI prints it under
    the band, the web pages show it (hF, session 60: one line, both ways)."""
    if cases:
        ranked = sorted(cases, key=lambda c: c.residual)
        picks = dict.fromkeys((ranked[0], ranked[len(ranked) // 2], ranked[-1]))
        named = ", ".join(f"{c.residual * 100:+.1f} % ({c.case})" for c in picks)
        return (f"cases behind it (lowest, median, highest of {len(cases)}): {named}; every case in --json "
                f"error_band.cases_used")
    if campaigns:
        low, high = min(campaigns, key=lambda c: c.residual_min), max(campaigns, key=lambda c: c.residual_max)
        return (f"campaigns behind it: {len(campaigns)}, lowest residual {low.residual_min * 100:+.1f} % "
                f"({low.campaign}), highest {high.residual_max * 100:+.1f} % ({high.campaign}); each in --json "
                f"error_band.campaigns_used")
    return ""


def with_cases_line(data: Any) -> Any:
    """A band's fields (`ErrorBand`'s input) with `cases_line`, `nearest_line` of its pool, where not given: every
    band carries the line the CLI prints, however it was built (a JSON band read back keeps its own)."""
    if not isinstance(data, dict) or "cases_line" in data:
        return data
    cases = tuple(BandCase.model_validate(c) for c in data.get("cases_used", ()))
    campaigns = tuple(BandCampaign.model_validate(c) for c in data.get("campaigns_used", ()))
    return {**data, "cases_line": nearest_line(cases, campaigns)}


def pool_cases(parts: Sequence[tuple[tuple[BandCase, ...], tuple[BandCampaign, ...], int]]) -> int:
    """The validation cases in the pools of several distinct bands (each: its `cases_used`, `campaigns_used`,
    `cases`), each once: the distinct listed cases where every band lists its pool; else, where every band names
    its pool's campaigns, the merged campaigns' counts (`merged`: a campaign's rows in several parts' pools counted
    together: exact where the parts' pools are the same or hold different rows, as a serving campaign re-run on each
    part's profile, or a Hopper and a Blackwell pool; it counts twice a row two different pools share, which only a
    listed pool could tell); else (a band naming no pool) the parts' counts summed."""
    if all(cases or not count for cases, _, count in parts):
        return len(dict.fromkeys(c for cases, _, _ in parts for c in cases))
    if all(sum(c.cases for c in campaigns) == count for _, campaigns, count in parts):
        return sum(c.cases for c in merged((), (c for _, campaigns, _ in parts for c in campaigns))[1])
    return sum(count for _, _, count in parts)
