"""A system file given where a part is asked for is priced on its own node, by every command (hP69).

hC69 found that `recsys`, `facility --accelerator` and `campus` read a system file as its part and sized it on the
part's host share (a DGX H100 copy with 8 kW of host: 575 W a GPU, the RoCE 24K reference node's), while `facility
--system`, `serve --system` and a plan / fleet-mix pool priced the file's node (1,000 W a GPU); it only warned.
Now one Cluster carries the node from the edge down (`Cluster.for_accelerator`, `cluster.node_system`,
`cluster.part_of`): every command gives 1,000 W a GPU, no answer warns, and a catalog system read as its part is
priced exactly as the part (every catalog node is its part's reference node)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.catalog import list_presets, load_accelerator, load_system
from infraplan.catalog.facility_loader import load_network_cost
from infraplan.cluster.cluster import Cluster, part_of

READ_AS_PART = "is read as its part"
MISC = 1.0 + load_network_cost().misc_it_power_fraction  # storage, front-end network: a share of server watts


def _dgx(directory: Path, host_w: int) -> str:
    """A copy of dgx-h100-superpod.yaml named hot.yaml in `directory` with `host_w` of host a node."""
    with resources.as_file(resources.files("infraplan.catalog") / "systems" / "dgx-h100-superpod.yaml") as src:
        text = src.read_text()
    assert "host_power_w: 4600W" in text
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "hot.yaml"
    path.write_text(text.replace("host_power_w: 4600W", f"host_power_w: {host_w}W"))
    return str(path)


def _hosts_per_gpu(answer: dict[str, Any]) -> float:
    facility = answer.get("facility", answer)
    return float(facility["power_breakdown_w"]["hosts"] / answer["accelerators"])


def _recsys_host_w(capsys: pytest.CaptureFixture[str], ref: str) -> float:
    answer = cli_json(capsys, ["recsys", "dlrm-low", "--accelerator", ref])
    assert not any(READ_AS_PART in w for w in answer["warnings"])
    return float(answer["platform_power_w"] - answer["power_w"])


def _pool_it_w(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, device: str) -> float:
    """The IT watts of a plan's or fleet-mix's one pool of `device`, serving one ranking service (one server: 8)."""
    spec: dict[str, Any] = {
        "name": "node-check",
        "services": [{"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}],
        "pools": [{"name": "p", "device": device, "price_usd_per_device": 42000}]}
    if command == "plan":
        spec.update(phases=[{"name": "2025", "year": 2025}], sites=[{"name": "s", "power": "10MW"}])
        spec["pools"][0]["site"] = "s"
    path = tmp_path / f"{command}.yaml"
    path.write_text(yaml.safe_dump(spec))
    (pool,) = cli_json(capsys, [command, str(path)])["pools"]
    assert pool["devices" if command == "plan" else "devices_bought"] == 8
    return float(pool["it_power_w" if command == "plan" else "power_w"])


def test_an_8kw_dgx_copy_is_1000_w_a_gpu_on_every_command(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    """At 1f399871 `recsys`, `facility --accelerator` and `campus` gave 575 W (and a warning)."""
    hot = _dgx(tmp_path / "a", 8000)
    assert _hosts_per_gpu(cli_json(capsys, ["facility", "--system", hot])) == pytest.approx(1000.0)
    as_part = cli_json(capsys, ["facility", "--accelerator", hot, "--count", "8"])
    assert _hosts_per_gpu(as_part) == pytest.approx(1000.0)
    assert not any(READ_AS_PART in w for w in as_part["warnings"])
    assert _recsys_host_w(capsys, hot) == pytest.approx(1000.0)
    campus = cli_json(capsys, ["campus", "--power", "10MW", "--accelerator", hot])
    assert _hosts_per_gpu(campus) == pytest.approx(1000.0)
    assert not any(READ_AS_PART in n for n in campus["notes"])
    plain = cli_json(capsys, ["campus", "--power", "10MW", "--accelerator", "dgx-h100-superpod"])
    assert campus["accelerators"] < plain["accelerators"]  # more host a GPU: fewer GPUs in the same 10 MW
    for command in ("plan", "fleet-mix"):  # a pool's device priced the file's node already; the same node here
        hot_w, catalog_w = (_pool_it_w(capsys, tmp_path, command, d) for d in (hot, "dgx-h100-superpod"))
        assert hot_w - catalog_w == pytest.approx(8 * (1000.0 - 575.0) * MISC), command


def test_two_files_of_one_name_do_not_share_an_answer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Two system files both called hot.yaml (so both systems are named `hot`), of 8 kW and 6 kW of host, in one
    process: each command prices each file's own node, whichever ran first (no cache keyed by the name)."""
    eight, six = _dgx(tmp_path / "a", 8000), _dgx(tmp_path / "b", 6000)
    assert load_system(eight).name == load_system(six).name == "hot"
    for first, second in ((eight, six), (six, eight)):
        want = {eight: 1000.0, six: 750.0}
        for ref in (first, second):
            assert _recsys_host_w(capsys, ref) == pytest.approx(want[ref])
            facility = cli_json(capsys, ["facility", "--accelerator", ref, "--count", "16"])
            assert _hosts_per_gpu(facility) == pytest.approx(want[ref])
            campus = cli_json(capsys, ["campus", "--power", "5MW", "--accelerator", ref])
            assert _hosts_per_gpu(campus) == pytest.approx(want[ref])
    eight_w, six_w = (_pool_it_w(capsys, tmp_path, "plan", d) for d in (eight, six))
    assert eight_w - six_w == pytest.approx(8 * (1000.0 - 750.0) * MISC)


@pytest.mark.parametrize("system", list_presets("systems"))
def test_a_catalog_system_read_as_its_part_is_the_part(system: str) -> None:
    """Every catalog system's node is its part's reference node, so reading one as its part changes nothing: the
    same accelerator and the same generic cluster (node, fabric kind, efficiency, tiers) at 8 and at 512."""
    part = load_system(system).accelerator
    assert part_of(system) == load_accelerator(part)
    for count in (8, 512):
        assert Cluster.for_accelerator(system, count).system == Cluster.for_accelerator(part, count).system
