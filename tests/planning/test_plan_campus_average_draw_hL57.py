"""`plan`'s totals, `compare` and `campus`'s phases say the average draw beside the labelled peak (hL57).

hC57 gave every infrastructure answer its average facility draw (peak x the load factor: what energy, opex and
carbon count at), and hH57 printed it beside the labelled peak in `facility` and `campus`'s table. `plan`'s total
line still read "12.8 kW facility" (the peak alone), `compare` had one "facility power" row (the peak), and
`campus --phases` printed "+30 MW" a phase, unlabelled, with no average in its JSON. Fails before: no average in the
total line, no compare metric, no phase field."""

from __future__ import annotations

import json

import pytest

from infraplan.cli import main
from infraplan.cli.commands._output import fmt_rate


def test_plan_totals_say_peak_and_average(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["plan", "examples/plan-minimal.yaml", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["facility_power_average_w"] < p["facility_power_w"]
    assert main(["plan", "examples/plan-minimal.yaml"]) == 0
    total = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("total ("))
    assert (f"{fmt_rate(p['facility_power_w'], 'W')} facility (peak; {fmt_rate(p['facility_power_average_w'], 'W')} "
            "average draw)") in total


def test_compare_lists_the_average_draw_with_its_delta(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    args = ["compare", "examples/plan-minimal.yaml", "examples/mtia-vs-gpu.yaml"]
    assert main([*args, "--json"]) == 0
    c = json.loads(capsys.readouterr().out)
    assert "facility_power_average_w" in c["metrics"]
    a, b = (s["facility_power_average_w"] for s in c["scenarios"])
    assert c["deltas"][1]["facility_power_average_w"] == pytest.approx(b - a)
    assert main(args) == 0
    rows = {line.split("│")[1].strip(): line for line in capsys.readouterr().out.splitlines() if line.count("│") >= 3}
    assert "facility power (peak)" in rows and fmt_rate(b, "W") in rows["facility power (average)"]


def test_campus_phases_carry_and_print_their_average_draw(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    args = ["campus", "--power", "100MW", "--accelerator", "gb200", "--cooling", "liquid", "--phases",
            "2026:0.3,2027:0.7"]
    assert main([*args, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    load = r["facility"]["assumptions"]["load_factor"]
    for ph in r["phases"]:
        assert ph["facility_power_average_w"] == pytest.approx(ph["facility_power_w"] * load, rel=1e-12)
    assert main(args) == 0
    out = capsys.readouterr().out
    for ph in r["phases"]:
        assert (f"{ph['year']}: +{fmt_rate(ph['facility_power_w'], 'W')} peak, "
                f"+{fmt_rate(ph['facility_power_average_w'], 'W')} average (") in out
