"""hF64: `recsys --accelerator` takes what a fleet-mix / `plan` recsys pool's `device` takes. A pool `device:
mtia-400-rack` was sized (planning/pool_capacity: `Cluster.resolve(device).accelerator`, 674,361 QPS of dlrm-high
at 20 ms), while `recsys dlrm-high --accelerator mtia-400-rack` said "unknown accelerator 'mtia-400-rack'"."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.cli.conftest import cli_json

from infraplan.cli import main
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.recsys.estimate import estimate_recsys
from infraplan.web.app import create_app


@pytest.mark.parametrize(("system", "part"), [("mtia-400-rack", "mtia-400"), ("mtia-v2-rack", "mtia-v2")])
def test_a_system_preset_is_its_accelerator_on_the_cli_and_the_web(capsys: pytest.CaptureFixture[str], system: str,
                                                                   part: str) -> None:
    args = ["recsys", "dlrm-high", "--latency-slo", "20ms", "--accelerator"]
    rack, chip = cli_json(capsys, [*args, system]), cli_json(capsys, [*args, part])
    assert rack["accelerator"] == part
    for key in ("batch", "qps", "latency_s", "power_w", "platform_power_w", "bound"):
        assert rack[key] == chip[key], key
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        web = client.post("/api/recsys", json={"model": "dlrm-high", "accelerator": system, "latency_slo": "20ms"})
    assert web.status_code == 200, web.text
    assert web.json()["qps"] == rack["qps"]


def test_the_cli_answers_what_a_fleet_pool_of_the_rack_is_sized_on(tmp_path: Path) -> None:
    spec = {"name": "rack", "objective": "power",
            "services": [{"name": "late", "kind": "recsys", "model": "dlrm-high", "qps": "1M", "latency_slo": "20ms"}],
            "pools": [{"name": "m400", "device": "mtia-400-rack", "price_usd_per_device": 20000}]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(spec))
    row = plan_fleet(str(path)).assignment[0]
    assert row["capacity_per_device"] == estimate_recsys("dlrm-high", "mtia-400-rack", latency_slo_s=0.02).qps


def test_an_unknown_name_is_still_the_accelerators_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["recsys", "dlrm-high", "--accelerator", "tpu-v5e"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "unknown accelerator 'tpu-v5e'; did you mean" in err


def test_every_catalog_systems_node_share_is_its_accelerators_host_share() -> None:
    """The README's claim: a system named as --accelerator is priced on its accelerator's host share, which each
    catalog system's node (host + scale-up switches per accelerator) equals (a user's system file may differ)."""
    from infraplan.catalog import list_presets, load_system
    from infraplan.cluster.host_share import host_share, node_share_w

    for name in list_presets("systems"):
        system = load_system(name)
        assert node_share_w(system.node) == pytest.approx(host_share(system.accelerator).watts, rel=1e-12), name
