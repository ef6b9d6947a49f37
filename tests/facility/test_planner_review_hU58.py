"""An infrastructure planner's first hour (hU58): goodput at the job's own checkpoint interval, interruptions per
day, and the same question asked through the CLI and the web API."""

from __future__ import annotations

import math
from typing import Any

import pytest
from tests.cli.conftest import cli_json

from infraplan.cli import main
from infraplan.facility.reliability import reliability_report

H100_100K = ["reliability", "--system", "h100-sxm", "--gpus", "100000", "--days", "30"]


def daly_goodput(tau: float, d: float, r: float, m: float, planned_per_s: float) -> float:
    """Daly (2006, FGCS 22(3)) eq. 13's expected wall time per unit of work under exponential failures, written
    out here by hand: T_wall / T_solve = M e^(R/M) (e^((tau + d)/M) - 1) / tau; planned stops cost R + d each."""
    factor = m * math.exp(r / m) * (math.exp((tau + d) / m) - 1.0) / tau
    return 1.0 / (factor * (1.0 + planned_per_s * (r + d)))


def test_goodput_at_a_given_interval_is_dalys_wall_time_at_it(capsys: pytest.CaptureFixture[str]) -> None:
    """`--checkpoint-interval 30min` on 100,000 H100: the goodput is Daly's formula at tau = 1,800 s (hand
    computed from the answer's MTTF, write and restart), below the optimum's, which the run without the option
    gives as its goodput (the same question asked two ways)."""
    given = cli_json(capsys, [*H100_100K, "--checkpoint-interval", "30min"])
    optimum = cli_json(capsys, H100_100K)
    assert given["checkpoint_interval_s"] == 1800.0 and given["checkpoint_interval_basis"] == "given"
    assert optimum["checkpoint_interval_basis"] == "daly"
    assert optimum["checkpoint_interval_s"] == optimum["daly_interval_s"] == given["daly_interval_s"]
    planned_per_s = given["expected_planned_interruptions"] / (given["days"] * 86400.0)
    hand = daly_goodput(1800.0, given["checkpoint_write_s"], given["restart_s"], given["job_mttf_s"], planned_per_s)
    assert given["goodput"] == pytest.approx(hand, rel=1e-9)
    assert given["goodput_at_daly_interval"] == pytest.approx(optimum["goodput"], rel=1e-12)
    assert given["goodput"] < optimum["goodput"] - 0.2  # 41.9 % against 67.6 %: 30 min is 18 Daly intervals
    # everything but the interval is the same answer
    for key in ("job_mttf_s", "expected_interruptions", "checkpoint_bytes", "expected_gpus_out_of_service"):
        assert given[key] == optimum[key]


def test_dalys_interval_given_back_gives_the_optimum_and_a_longer_one_less() -> None:
    """Daly's interval is the optimum: giving it back reproduces the default goodput; twice and half of it give
    less (the model's own ranking, not a copied figure)."""
    base = reliability_report("h100-sxm", 16384, 54.0)
    tau = base.daly_interval_s
    again = reliability_report("h100-sxm", 16384, 54.0, checkpoint_interval_s=tau)
    assert again.goodput == pytest.approx(base.goodput, rel=1e-12)
    for other in (0.5 * tau, 2.0 * tau):
        assert reliability_report("h100-sxm", 16384, 54.0, checkpoint_interval_s=other).goodput < base.goodput


def test_interruptions_per_day_are_llama3s_466_in_54_days(capsys: pytest.CaptureFixture[str]) -> None:
    """Llama 3 (arXiv:2407.21783 Sec. 3.3.4): 466 job interruptions in 54 days on 16,384 H100 (419 unexpected + 47
    planned) = 8.63 per day; the rate per day does not depend on the days counted over."""
    out: dict[str, Any] = cli_json(capsys, "reliability --system h100-sxm --gpus 16384 --days 54")
    assert out["expected_interruptions_per_day"] == pytest.approx(466 / 54, rel=0.005)
    week = cli_json(capsys, "reliability --system h100-sxm --gpus 16384 --days 7")
    assert week["expected_interruptions_per_day"] == pytest.approx(out["expected_interruptions_per_day"], rel=1e-12)
    assert week["expected_interruptions"] == pytest.approx(7 * out["expected_interruptions_per_day"], rel=1e-12)


@pytest.mark.parametrize("value", ["0", "-5min", "soon"])
def test_a_bad_checkpoint_interval_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], value: str) -> None:
    code = main([*H100_100K, f"--checkpoint-interval={value}"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--checkpoint-interval" in err


def test_the_library_refuses_a_non_positive_interval() -> None:
    from infraplan.errors import InputError

    with pytest.raises(InputError, match="checkpoint interval"):
        reliability_report("h100-sxm", 8, 1.0, checkpoint_interval_s=0.0)


def test_facility_and_campus_print_the_annual_cost_their_json_holds(capsys: pytest.CaptureFixture[str]) -> None:
    """The TCO a planner budgets (annualised capex + opex, per year) was in the JSON only: the table prints it, and
    it is the sum of its parts and the $/GPU-h times the GPU-hours of a year (24,576 H100 of Meta's RoCE cluster:
    $287 M/year at $1.33/GPU-h)."""
    from infraplan.cli.commands._output import fmt_usd

    for args in (["facility", "--system", "meta-genai-roce-24k"],
                 ["campus", "--power", "20MW", "--accelerator", "h100-sxm"]):
        data = cli_json(capsys, args)
        f = data.get("facility", data)
        tco = f["tco_usd_per_year"]
        assert tco == pytest.approx(sum(f["annualized_capex_usd_per_year"].values()) + f["opex_usd_per_year"])
        assert tco == pytest.approx(f["usd_per_gpu_hour"] * f["accelerators"] * 8760.0, rel=1e-6)
        assert main(args) == 0
        row = next(line for line in capsys.readouterr().out.splitlines() if "TCO" in line)
        assert f"{fmt_usd(tco)}/year" in row


def test_an_unpriced_campus_prints_no_tco_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["campus", "--power", "20MW", "--accelerator", "gb300", "--cooling", "liquid"]) == 0
    out = capsys.readouterr().out
    assert "TCO" not in out and "electricity" in out


def _row(out: str, label: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"│ {label}"))


def test_the_energy_row_names_the_load_it_is_counted_at(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    """Energy = facility power x 8,760 h x the load factor; the row says the load, and a costs file's load factor
    moves both (39.8 MW x 8,760 h x 0.8 = 278,733 MWh for Meta's RoCE cluster; x 0.5: 174,208)."""
    costs = tmp_path / "load.yaml"
    costs.write_text("load_factor: 0.5\n")
    for extra, load in (([], 0.8), (["--costs", str(costs)], 0.5)):
        args = ["facility", "--system", "meta-genai-roce-24k", *extra]
        data = cli_json(capsys, args)
        assert data["assumptions"]["load_factor"] == load
        assert data["energy_mwh_per_year"] == pytest.approx(data["facility_power_w"] * 8760 * load / 1e6)
        assert main(args) == 0
        row = _row(capsys.readouterr().out, "energy")
        assert f"{data['energy_mwh_per_year']:,.0f} MWh/year" in row and f"at {load * 100:g} % load" in row


def test_campus_prints_its_pue_and_rack_power(capsys: pytest.CaptureFixture[str]) -> None:
    """A planner asks a campus's PUE and rack density first: the table prints facility / IT power as the PUE and
    the racks with their kW, as `facility` does (GB300 NVL72: 72 GPUs a rack)."""
    args = ["campus", "--power", "1GW", "--accelerator", "gb300", "--cooling", "liquid"]
    data = cli_json(capsys, args)
    f = data["facility"]
    assert f["pue"] == pytest.approx(f["facility_power_w"] / f["it_power_w"], abs=5e-4)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"(PUE {f['pue']:.3f})" in _row(out, "IT / facility power")
    fill = f["racks_by_fill"][0]
    assert fill["accelerators_per_rack"] == 72 and fill["racks"] == data["racks"] == data["accelerators"] // 72
    assert f"{fill['racks']:,} × {fill['rack_power_w'] / 1e3:.0f} kW (72 accelerators)" in _row(out, "racks")


@pytest.mark.parametrize("width", [80, 120])
def test_the_fabric_table_fits_the_terminal_without_cutting_a_cell(capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """`network meta-genai-roce-24k` at 80 columns printed "switch…", "oversu…" and "(minip…": the table is now
    fitted as plan's are (split in parts repeating the tier), every switch count and capex printed whole."""
    from infraplan.cli.commands import _output

    monkeypatch.setattr(_output.console, "width", width)
    data = cli_json(capsys, ["network", "meta-genai-roce-24k"])
    assert main(["network", "meta-genai-roce-24k"]) == 0
    out = capsys.readouterr().out
    table = out.split("switches 1,611")[0]  # the tables, before the summary line
    assert "…" not in table and max(len(line) for line in table.splitlines()) <= width
    for tier in data["tiers"]:
        assert f"{tier['switches']:,}" in table and tier["switch_model"] in table
