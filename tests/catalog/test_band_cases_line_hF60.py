"""hF (session 60): an error band carries the line naming the cases behind it (`cases_line`, one function,
`band_cases.nearest_line`), which the CLI prints under the band and the web pages show; and a composite's band
counts the cases of all its parts' pools, each once (`band_cases.pool_cases`), not the widest part's alone."""

from __future__ import annotations

from typing import NamedTuple

from infraplan.catalog.answer_bands import envelope, parts_band
from infraplan.catalog.band_cases import cases_used, nearest_line
from infraplan.catalog.error_bands import ErrorBand, error_band
from infraplan.cli.commands._output import band_line, band_or_why


class _Row(NamedTuple):
    id: str
    residual: float
    group: str


def _band(rows: list[_Row], basis: str = "b") -> ErrorBand:
    cases, campaigns = cases_used(rows)
    values = [r.residual for r in rows]
    return ErrorBand(low=min(values), high=max(values), cases=len(rows), basis=basis, cases_used=cases,
                     campaigns_used=campaigns)


def test_every_band_carries_the_line_the_cli_prints() -> None:
    band = error_band("h100-sxm", None, "training")
    assert band is not None and band.cases_used
    assert band.cases_line == nearest_line(band.cases_used, band.campaigns_used)
    assert band.cases_line.startswith(f"cases behind it (lowest, median, highest of {len(band.cases_used)}): ")
    assert band.model_dump()["cases_line"] == band.cases_line  # in --json and the web's answer
    assert ErrorBand.model_validate_json(band.model_dump_json()) == band  # read back: the same band
    # the CLI prints the band's own line: a band read back with another line prints that one
    other = band.model_copy(update={"cases_line": "cases behind it: X"})
    assert band_line(other, "throughput").endswith("\n  cases behind it: X")
    assert band_or_why(other, other.basis, "throughput").endswith("\n  cases behind it: X")
    serving = error_band("h100-sxm", None, "serving")  # a pool too large to list: its campaigns named
    assert serving is not None and not serving.cases_used
    assert serving.cases_line.startswith(f"campaigns behind it: {len(serving.campaigns_used)}, lowest residual ")
    assert ErrorBand(low=0.0, high=0.1, cases=0, basis="b").cases_line == ""  # a band naming no case


def test_an_envelope_counts_every_parts_pool_once() -> None:
    a = _band([_Row("c1", -0.1, "x"), _Row("c2", 0.2, "y")], "a's")
    b = _band([_Row("c2", 0.2, "y"), _Row("c3", 0.05, "z"), _Row("c4", 0.3, "z")], "b's")
    both = envelope([a, b], "total")
    assert both is not None and both.cases == 4  # c1..c4, c2 once (before: the widest part's 3)
    assert "4 cases of 3 campaigns in all (the parts': 2, 3); the widest-pool part's: b's" in both.basis
    assert both.cases_line.startswith("cases behind it (lowest, median, highest of 4): -10.0 % (c1), ")
    same = envelope([a, a], "total")  # parts of one pool: its count and basis
    assert same is not None and (same.cases, same.basis) == (2, "total: a's")
    # pools too large to list (serving): the parts' campaigns' rows; an H100 and a B200 pool share no row
    h100, b200 = (error_band(a, None, "serving") for a in ("h100-sxm", "b200"))
    assert h100 is not None and b200 is not None and not h100.cases_used
    fleet, _ = parts_band(["h100-sxm", "b200"], None, "serving", "throughput", "total")
    assert fleet is not None and fleet.cases == h100.cases + b200.cases > max(h100.cases, b200.cases)
    assert fleet.cases == sum(c.cases for c in fleet.campaigns_used)
    assert f"(the parts': {h100.cases:,}, {b200.cases:,})" in fleet.basis

