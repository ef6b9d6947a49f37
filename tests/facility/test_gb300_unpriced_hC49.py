"""hC49 (session 46): GB300 has no catalog price because none is published (its hardware_costs.yaml entry and its
accelerator file say what was looked for); every command that needs the price names the missing figure in one line,
and the figure given is all that was missing."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog.hardware_costs import load_hardware_cost
from infraplan.catalog.loader import load_accelerator
from infraplan.cli import main
from infraplan.planning.device_money import missing_price


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[dict[str, object], str]:
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    out, err = capsys.readouterr()
    return json.loads(out), err


def test_the_catalog_says_why_gb300_is_unpriced() -> None:
    entry = load_hardware_cost("gb300")
    assert entry is not None and entry.server_usd_per_accelerator is None
    assert "Price: none published" in entry.source and "ASSUMPTION, not a source" in entry.source
    assert "No published price" in (load_accelerator("gb300").notes or "")


def test_facility_names_the_missing_price_and_prices_with_it(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["facility", "--accelerator", "gb300", "--count", "72"]
    unpriced, _ = _json(capsys, args)
    assert unpriced["capex_usd"] is None and unpriced["usd_per_gpu_hour"] is None
    reason = str(unpriced["cost_reason"])
    assert "gb300" in reason and "--server-price" in reason and "\n" not in reason
    priced, _ = _json(capsys, [*args, "--server-price", "60000"])
    assert priced["capex_usd"] is not None and priced["cost_reason"] is None
    assert priced["it_power_w"] == unpriced["it_power_w"]  # the price was all that was missing


def test_a_pool_of_gb300_names_the_missing_price() -> None:
    line = missing_price("big", "gb300-nvl72", None)
    assert line == "pool 'big': the catalog has no price for gb300; give price_usd_per_device"
    assert missing_price("big", "gb300-nvl72", 60_000.0) is None
