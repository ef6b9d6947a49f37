"""A recsys or image service's bare `latency_slo` in a fleet or scenario file is refused above the CLI's ceiling as
milliseconds written for seconds (hU61: fleet-mix read `latency_slo: 20` as 20 s and chose MTIA v2 at 144 ms
batches without a word), the line `recsys --latency-slo 20` gives (`units.slo_unit_slip`); with a unit it is taken
as written, and a spec dumped in SI seconds and read back by `plan --vary` keeps its SLO."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.errors import InputError
from infraplan.planning.compare import varied
from infraplan.planning.fleet_spec import load_fleet_spec
from infraplan.planning.scenario_spec import load_scenario
from infraplan.units import slo_unit_slip

FLEET = ("services:\n  - {{name: late, kind: recsys, model: dlrm-high, qps: 40M, latency_slo: {slo}}}\n"
         "pools:\n  - {{name: h100, device: h100-sxm, price_usd_per_device: 42000}}\n")
SCENARIO = ("name: s\nphases: [{{name: '2025', year: 2025}}]\nservices:\n"
            "  - {{name: ranking, kind: {kind}, {demand}, latency_slo: {slo}}}\n"
            "pools:\n  - {{name: h100, device: h100-sxm, site: ohio}}\n"
            "sites:\n  - {{name: ohio, power: 10MW, location: ohio}}\n")


def _fleet(tmp_path: Path, slo: str) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET.format(slo=slo))
    return path


@pytest.mark.parametrize("slo", ["20", "'20'", "0.6"])
def test_a_bare_recsys_slo_above_half_a_second_is_refused_in_a_fleet_file_as_the_cli_refuses_it(
        tmp_path: Path, slo: str) -> None:
    bare = slo.strip("'")
    with pytest.raises(InputError) as err:
        load_fleet_spec(_fleet(tmp_path, slo))
    assert str(slo_unit_slip(bare, float(bare), "recsys")) in str(err.value)
    assert f"did you mean {bare}ms?" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("slo", "seconds"), [("20ms", 0.02), ("20s", 20.0), ("0.5", 0.5), ("0.02", 0.02)])
def test_a_recsys_slo_with_its_unit_or_within_the_ceiling_is_read_as_written(tmp_path: Path, slo: str,
                                                                               seconds: float) -> None:
    assert load_fleet_spec(_fleet(tmp_path, slo)).services[0].latency_slo == pytest.approx(seconds)


def _scenario(tmp_path: Path, slo: str, kind: str = "recsys") -> Path:
    path = tmp_path / "plan.yaml"
    demand = "model: dlrm-low, qps: 10M" if kind == "recsys" else "workload: image-generation, rate: 2"
    path.write_text(SCENARIO.format(slo=slo, kind=kind, demand=demand))
    return path


def test_a_scenario_refuses_the_same_slip_and_an_image_slo_takes_the_ttft_ceiling(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"latency_slo: 10 is 10 s per batch: did you mean 10ms\?"):
        load_scenario(_scenario(tmp_path, "10"))
    assert load_scenario(_scenario(tmp_path, "10", "image")).services[0].latency_slo == 10.0  # within 30 s
    with pytest.raises(InputError, match=r"latency_slo: 60 is 60 s to the first token \(an image's end to end\)"):
        load_scenario(_scenario(tmp_path, "60", "image"))


def test_plan_vary_reads_back_a_dumped_slo_above_the_ceiling(tmp_path: Path) -> None:
    """`1s` is a deliberate second; --vary dumps it as the bare 1.0 and validates the copy (compare.varied)."""
    spec = load_scenario(_scenario(tmp_path, "1s"))
    assert varied(spec, "pue", 1.3).services[0].latency_slo == 1.0
