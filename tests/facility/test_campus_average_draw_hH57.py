"""`campus` prints the average draw beside the peak, as `facility` does since hC57 (hH57's review).

hC57 labelled `facility`'s powers "(peak)" and added the average draw (peak x the load factor, the figure energy,
opex and carbon count at); `campus` prints the same facility (its `facility` answer carries both fields) but its
table still said "IT / facility power" unlabelled, the peak alone: a campus's 1 GW read as its draw. Fails before
(no average row)."""

from __future__ import annotations

import json

import pytest

from infraplan.cli import main


def test_campus_labels_the_peak_and_prints_the_average_draw(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["campus", "--power", "100MW", "--accelerator", "gb200", "--cooling", "liquid"]
    assert main([*args, "--json"]) == 0
    f = json.loads(capsys.readouterr().out)["facility"]
    load = f["assumptions"]["load_factor"]
    assert f["facility_power_average_w"] == pytest.approx(f["facility_power_w"] * load, rel=1e-12)
    assert main(args) == 0
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in capsys.readouterr().out.splitlines() if line.count("│") >= 3}
    assert rows["IT / facility power (peak)"].endswith(f"(PUE {f['pue']:.3f})")
    average = rows["IT / facility power (average)"]
    assert average.endswith(f"(peak x {100 * load:g} % load)")
    assert f"{f['facility_power_average_w'] / 1e6:.3g}" in average.replace(" MW", ""), average
