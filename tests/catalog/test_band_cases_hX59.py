"""An error band names the validation cases it comes from (issue 12; hX, session 59): `cases_used` (id, residual,
campaign) where the pool is small enough to list, `campaigns_used` always; the CLI names a few on one line (the web:
tests/web/test_band_cases_web_hX59.py). Before: the band said low / high, a count and a basis, no case."""

from __future__ import annotations

import json
import re

import pytest

from infraplan.catalog.answer_bands import envelope
from infraplan.catalog.band_cases import LISTED_CASES_MAX, BandCampaign, BandCase, merged
from infraplan.catalog.error_bands import ErrorBand, campaign_band, error_band, load_residuals
from infraplan.cli.main import main

TRAIN = ["train", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "64", "--tp", "4", "--pp", "2",
         "--seq-len", "8192", "--global-batch", "256"]
SERVE = ["serve", "llama3.1-8b", "--system", "h100-sxm", "--gpus", "1", "--input-len", "1024", "--output-len", "256",
         "--concurrency", "16"]


def _campaigns_in_basis(band: ErrorBand) -> int:
    return int(re.findall(r"cases of (\d+) campaigns", band.basis)[-1])  # (a widened basis names its swing first)


@pytest.mark.parametrize("stack", [None, "megatron-core-0.8", "deepspeed"])
def test_a_training_band_lists_every_case_it_comes_from(stack: str | None) -> None:
    band = error_band("h100-sxm", stack, "training")
    assert band is not None and len(band.cases_used) == band.cases <= LISTED_CASES_MAX
    assert len(band.campaigns_used) == _campaigns_in_basis(band) == len({c.campaign for c in band.cases_used})
    stored = {(r.id, r.residual, r.group) for r in load_residuals("training", None, None, True)}
    assert {(c.case, c.residual, c.campaign) for c in band.cases_used} <= stored  # as stored, ids and all
    if stack != "deepspeed":  # (deepspeed: hA's widening of the same pool) the listed cases give the band's ends
        ends = campaign_band([c.residual for c in band.cases_used], [c.campaign for c in band.cases_used])
        assert ends == (band.low, band.high)


def test_a_serving_band_names_its_campaigns_not_its_1253_cases() -> None:
    band = error_band("h100-sxm", None, "serving")
    assert band is not None and band.cases > LISTED_CASES_MAX and band.cases_used == ()
    assert sum(c.cases for c in band.campaigns_used) == band.cases
    assert len(band.campaigns_used) == _campaigns_in_basis(band)
    assert all(c.residual_min <= c.residual_max for c in band.campaigns_used)


def test_an_envelope_names_its_parts_cases_once() -> None:
    a = BandCase(case="A1", residual=0.1, campaign="A")
    b = BandCase(case="B1", residual=-0.2, campaign="B")
    ca, cb = (BandCampaign(campaign=n, cases=1, residual_min=r, residual_max=r) for n, r in (("A", 0.1), ("B", -0.2)))
    one = ErrorBand(low=-0.1, high=0.1, cases=1, basis="x", cases_used=(a,), campaigns_used=(ca,))
    two = ErrorBand(low=-0.2, high=0.0, cases=2, basis="y", cases_used=(a, b), campaigns_used=(cb, ca))
    both = envelope([one, two, one], "total")
    assert both is not None and both.cases_used == (a, b) and both.campaigns_used == (ca, cb)
    assert merged([a, a], [cb, ca, cb]) == ((a,), (ca, cb))


def test_the_text_names_a_few_cases_on_one_line(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    assert main([*TRAIN, "--json"]) == 0
    band = json.loads(capsys.readouterr().out)["error_band"]
    lowest = min(band["cases_used"], key=lambda c: c["residual"])
    assert main(TRAIN) == 0
    (line,) = [s for s in capsys.readouterr().out.splitlines() if "cases behind it" in s]
    assert f"{lowest['residual'] * 100:+.1f} % ({lowest['case']})" in line and f"of {band['cases']})" in line
    assert main(SERVE) == 0
    lines = [s for s in capsys.readouterr().out.splitlines() if "campaigns behind it" in s]
    assert len(lines) == 2 and all(len(s) < 300 for s in lines)  # throughput and TTFT bands: no wall of ids
