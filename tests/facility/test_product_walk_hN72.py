"""hN (session 72): a demanding planner's walk of network / facility / campus / plan; what it fixed.

1. A system file whose node states no `host_power_w` was priced at 0 W of host by `facility --system`, `plan` and
   every command on it (the schema's default), where `facility --accelerator PART --count N` of the same part
   charges the part's host share (its own figure, its reference node's, else Epoch's 0.82 x TDP): 24,576 of a
   user's 900 W GPU on a 3-tier 1:7 Clos were 26.5 MW of IT against 44.3 MW. The node now takes the part's share
   (`cluster.host_share.with_stated_host`), its source saying so; a stated figure, 0 included, stands. A file that
   `extends` a system and puts another part in its servers no longer inherits the base's host figure (the RoCE 24K's
   4.6 kW is a DGX H100's): it takes its own part's share, unless it states one (`catalog.loader.load_system`).
2. `facility --system meta-genai-roce-24k --rack-power 40kW` was refused: "rack power 40.0 kW exceeds the 30.0 kW per
   rack that air cooling allows", a cooling the user had not asked for (the default is air where a server fits
   30 kW). Without --cooling, the density asked now picks the first of air, liquid and immersion that allows it
   (`cluster.cost.default_cooling`); a --cooling given is kept and refused as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.cluster import Cluster
from infraplan.serving.serving_metrics import host_share_line

PART = """display_name: Zeta Z1
vendor: Zeta
kind: gpu
source: a user's what-if chip
peak_flops_per_s: {bf16: 1000e12, fp8: 2000e12}
memory_bytes: 192GB
memory_bandwidth_bytes_per_s: 6TB/s
memory_type: HBM
tdp_w: 900W
scale_up_bandwidth_bytes_per_s: 900GB/s
scale_out_bandwidth_bytes_per_s: 400Gbps
price_usd: 28000
price_source: a user's quote
efficiency:
  matmul_max_fraction: {bf16: 0.7, fp8: 0.6}
  attention_max_fraction: 0.5
  memory_bandwidth_fraction: 0.85
  compute_units: 132
  kernel_overhead_s: 4.0e-6
  scale_up_collective_efficiency: 0.8
  source: a user's what-if figures
"""

SYSTEM = """display_name: a user's 3-tier cluster, 1:7 above each pod
source: a user's design
accelerator: {part}
total_accelerators: 24576
node:
  accelerators_per_node: 8
  scale_up_domain: 8
  nics_per_node: 8
  nic_bandwidth_bytes_per_s: 400Gbps
{host}network:
  kind: roce
  collective_efficiency: 0.94
  tiers:
    - {{name: rack, group_size: 16, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: pod, group_size: 3072, oversubscription: 7, switch_radix: 576, port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: cluster, group_size: 24576, switch_radix: 576, port_bandwidth_bytes_per_s: 400Gbps}}
"""


def _files(tmp_path: Path, part: str = "z1.yaml", host: str = "") -> str:
    (tmp_path / "z1.yaml").write_text(PART, encoding="utf-8")
    path = tmp_path / "zsys.yaml"
    path.write_text(SYSTEM.format(part=part, host=host), encoding="utf-8")
    return str(path)


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert cli_main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_a_system_file_without_host_power_charges_the_parts_host_share(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """24,576 Z1 (900 W, no host figure, no reference system): 0.82 x 900 = 738 W of host a GPU, 18.14 MW, as
    `facility --accelerator z1.yaml --count 24576` charges (it was 0 W); the network differs (the file's own 1:7
    fabric against the generic zones), the servers do not."""
    system = _files(tmp_path)
    own = _json(capsys, "facility", "--system", system)
    count = _json(capsys, "facility", "--accelerator", str(tmp_path / "z1.yaml"), "--count", "24576")
    hosts = own["power_breakdown_w"]["hosts"]  # type: ignore[index]
    assert hosts == pytest.approx(24576 * 0.82 * 900.0)
    assert hosts == pytest.approx(count["power_breakdown_w"]["hosts"])  # type: ignore[index]
    assert own["racks"] == count["racks"] == 1536  # 2 servers of 13.1 kW in a 30 kW air rack (was 4 of 7.2 kW)
    read_as_part = _json(capsys, "facility", "--accelerator", system, "--count", "24576")
    assert read_as_part["power_breakdown_w"]["hosts"] == pytest.approx(hosts)  # type: ignore[index]
    node = Cluster.resolve(system).system.node
    assert node.host_power_w == pytest.approx(8 * 738.0)
    assert node.host_power_source.startswith("generic rule:") and "states no node.host_power_w" in \
        node.host_power_source
    capsys.readouterr()  # `catalog systems FILE`: the file as the commands read it
    assert cli_main(["catalog", "systems", system]) == 0
    assert json.loads(capsys.readouterr().out)["node"]["host_power_w"] == pytest.approx(8 * 738.0)
    cluster = Cluster.resolve(system)  # serve's line names the rule, not "zsys's own node figure"
    assert "the part's generic rule figure" in host_share_line(cluster.accelerator, cluster.system)


def test_a_catalog_part_takes_its_reference_nodes_host_and_a_stated_figure_stands(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An H100 system file without a host figure takes the DGX H100 node's 575 W a GPU (4.6 kW a server), as a
    count of h100-sxm does; a file stating 0 W keeps 0 (what it says), one stating 2 kW keeps 2 kW."""
    assert Cluster.resolve(_files(tmp_path, part="h100-sxm")).system.node.host_power_w == pytest.approx(4600.0)
    for stated in (0.0, 2000.0):
        path = _files(tmp_path, part="h100-sxm", host=f"  host_power_w: {stated}\n  host_power_source: mine\n")
        assert Cluster.resolve(path).system.node.host_power_w == stated
        got = _json(capsys, "facility", "--system", path)
        assert got["power_breakdown_w"]["hosts"] == pytest.approx(3072 * stated)  # type: ignore[index]


@pytest.mark.parametrize(("rack_power", "cooling", "racks"), [("25kW", "air", 1536), ("40kW", "liquid", 1024),
                                                            ("170kW", "immersion", 615)])
def test_the_rack_density_asked_picks_the_default_cooling(capsys: pytest.CaptureFixture[str], rack_power: str,
                                                          cooling: str, racks: int) -> None:
    """24,576 H100 on the RoCE cluster: 25 kW keeps air (2 DGX of 10.2 kW a rack), 40 kW goes to liquid (3 a rack),
    170 kW to immersion (5 a rack: 8U servers in 42U bind before the power)."""
    got = _json(capsys, "facility", "--system", "meta-genai-roce-24k", "--rack-power", rack_power)
    assert (got["cooling"], got["racks"]) == (cooling, racks)


def test_a_cooling_given_or_a_density_no_cooling_allows_is_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for args, line in ((["--rack-power", "40kW", "--cooling", "air"], "30.0 kW per rack that air cooling allows"),
                       (["--rack-power", "250kW"], "200.0 kW per rack that immersion cooling allows")):
        capsys.readouterr()
        assert cli_main(["facility", "--system", "meta-genai-roce-24k", *args]) == 2
        err = capsys.readouterr().err
        assert line in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_system_extending_a_preset_with_another_part_takes_that_parts_host(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`extends: meta-genai-roce-24k` with `accelerator: z1.yaml` kept the DGX H100's 4,600 W a server (575 W a
    900 W part): now 8 x 738 W; a what-if of the same H100 keeps the base's 4,600 W, and a figure the file states
    stands."""
    _files(tmp_path)
    for text, host in (("accelerator: z1.yaml\n", 8 * 738.0),
                       ("accelerator: h100.yaml\n", 4600.0),
                       ("accelerator: z1.yaml\nnode: {host_power_w: 3000W, host_power_source: mine}\n", 3000.0)):
        (tmp_path / "h100.yaml").write_text("extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5TB/s\n")
        path = tmp_path / "swap.yaml"
        path.write_text("extends: meta-genai-roce-24k\n" + text, encoding="utf-8")
        got = _json(capsys, "facility", "--system", str(path))
        assert got["power_breakdown_w"]["hosts"] == pytest.approx(3072 * host), text  # type: ignore[index]
