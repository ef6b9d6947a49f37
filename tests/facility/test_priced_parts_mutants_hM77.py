"""hM77 mutation wave on hK76's priced parts and failure-rate checks: a priced plan pool's
`fleet_value_priced_usd` is its whole `fleet_value_usd` (hK76's test read an unpriced pool only), and a failure-rate
file's `measured_on` naming an accelerator file that does not load is refused naming the file and key, and one
that loads is read as its preset in the borrowed-rate line (hK76's test read an unknown preset, and a good file only
for the h100 line's absence)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.facility.test_infra_leftovers_hK76 import _json, _rate, _refused

from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def test_a_priced_pools_priced_value_is_its_whole_value() -> None:
    spec = ScenarioSpec.model_validate({
        "name": "p", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}],
        "pools": [{"name": "h", "device": "h100-sxm", "site": "a"}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "power"}})
    row = plan_scenario(spec).pools[0]
    assert row.fleet_value_usd is not None and row.fleet_value_usd > 0
    assert row.fleet_value_priced_usd == pytest.approx(row.fleet_value_usd, rel=1e-12)


@pytest.mark.parametrize("measured_on", ["[missing.yaml]", "[bad-part.yaml]"])
def test_a_measured_on_file_that_does_not_load_is_refused(measured_on: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad-part.yaml").write_text("extends: nope-gpu\n")
    rate = _rate(tmp_path, measured_on)
    err = _refused(capsys, ["reliability", "--system", "meta-rsc", "--gpus", "4096", "--failure-rate", rate])
    assert f"failure-rate file {rate}: measured_on:" in err, err


def test_a_measured_on_accelerator_file_reads_as_its_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """meta-rsc (A100): a rate counted on a file extending a100-80gb is the job's own (no line); one counted on
    h100-sxm and on a file extending it names h100-sxm once."""
    (tmp_path / "my-a100.yaml").write_text("extends: a100-80gb\ntdp_w: 350\n")
    (tmp_path / "my-h100.yaml").write_text("extends: h100-sxm\ntdp_w: 650\n")
    said = {}
    for measured in ("[my-a100.yaml]", "[h100-sxm, my-h100.yaml]"):
        data = _json(capsys, ["reliability", "--system", "meta-rsc", "--gpus", "4096", "--failure-rate",
                              _rate(tmp_path, measured), "--json"])
        said[measured] = [n for n in json.dumps(data).split('"') if " was counted on " in n]
    assert said["[my-a100.yaml]"] == []
    (line,) = said["[h100-sxm, my-h100.yaml]"]
    assert " was counted on h100-sxm, not a100-80gb" in line and "my-h100" not in line, line
