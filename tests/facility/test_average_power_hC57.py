"""Peak and average power, one load factor (hC57, session 57).

`facility` answered the peak IT load only (the design load a site is sized for), where a TOP500 power figure is the
HPL run's average (Selene, Nov 2020: 2,646 kW; the model's peak 4.05 MW, +52.9 %, validation/notes/
out_of_sample_s56/facility_oos.py). Now it also answers the average draw, peak x the load factor its energy already
used (`it_power_average_w`, `facility_power_average_w`; energy = the latter x 8,760 h). `train --tokens` counted its
energy at the peak while its $/GPU-hour priced the electricity at the load factor (1.25x apart): now both at the
one load factor. Every test here fails on a07494e (no fields; the run's energy at the peak)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.cluster.cost import HOURS_PER_YEAR, load_cost_overrides
from infraplan.facility.facility import size_facility
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training


def test_the_average_draw_is_the_peak_at_the_load_factor_and_energy_is_it_over_a_year() -> None:
    r = size_facility(system="dgx-a100-superpod")
    assert r.assumptions.load_factor == 0.8
    assert r.it_power_average_w == pytest.approx(0.8 * r.it_power_w, rel=1e-12)
    assert r.facility_power_average_w == pytest.approx(r.it_power_average_w * r.pue, rel=1e-12)
    assert r.energy_mwh_per_year == pytest.approx(r.facility_power_average_w * HOURS_PER_YEAR / 1e6, rel=1e-12)
    # Selene (TOP500 Nov 2020, 2,646 kW HPL average, RECALLED): the average 3.24 MW (+22 %), the peak 4.05 (+53 %)
    assert r.it_power_average_w / 2.646e6 - 1 == pytest.approx(0.223, abs=0.005)


def test_a_costs_files_load_factor_moves_the_average_not_the_peak(tmp_path: Path) -> None:
    path = tmp_path / "costs.yaml"
    path.write_text("source: Epoch AI's TOP500 rule, average x 1.5 = peak\nload_factor: 0.6667\n")
    base = size_facility(accelerator="h100-sxm", count=1024)
    low = size_facility(accelerator="h100-sxm", count=1024, overrides=load_cost_overrides(str(path)))
    assert low.it_power_w == base.it_power_w and low.facility_power_w == base.facility_power_w  # capacity
    assert low.it_power_average_w == pytest.approx(0.6667 * base.it_power_w, rel=1e-12)
    assert low.energy_mwh_per_year == pytest.approx(base.energy_mwh_per_year * 0.6667 / 0.8, rel=1e-12)


def test_a_runs_energy_per_gpu_hour_is_facilitys_average_draw_per_accelerator() -> None:
    system = "dgx-h100-superpod"
    est = estimate_training("llama3-8b", system, 64, tp=1, pp=1, seq_len=8192, global_batch=512, zero=1)
    run = training_run_totals(est, system, 1e11)
    site = size_facility(system=system)
    per_gpu_hour_mwh = run.energy_mwh / run.gpu_hours
    assert per_gpu_hour_mwh == pytest.approx(site.facility_power_average_w / site.accelerators / 1e6, rel=1e-9)
    assert run.load_factor == site.assumptions.load_factor == 0.8


def test_the_text_answer_shows_both_powers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facility", "--system", "dgx-a100-superpod"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "IT power (peak) │ 4.05 MW" in out
    assert "IT / facility power (average) │ 3.24 MW / 3.56 MW (peak x 80 % load)" in out


def test_a_plans_pools_phases_and_totals_carry_the_average_draw_of_their_energy(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`plan` counted its energy at peak x load factor (device_money) without saying the draw: now each pool row,
    phase and the totals carry it, and a policy's load_factor moves it (not the peak)."""
    import json

    text = (Path(__file__).parents[2] / "examples" / "plan-minimal.yaml").read_text()
    for policy, factor in (("", 0.8), ("policy: {load_factor: 0.5}\n", 0.5)):
        path = tmp_path / "plan.yaml"
        path.write_text(text + policy)
        assert main(["plan", str(path), "--json"]) == 0
        d = json.loads(capsys.readouterr().out)
        for row in [*d["pools"], *d["phases"], d]:
            assert row["facility_power_average_w"] == pytest.approx(factor * row["facility_power_w"], rel=1e-12)
            assert row["energy_mwh_per_year"] == pytest.approx(row["facility_power_average_w"] * HOURS_PER_YEAR / 1e6,
                                                               rel=1e-12)
