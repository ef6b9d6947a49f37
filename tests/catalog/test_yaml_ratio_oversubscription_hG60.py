"""A tier's oversubscription written as a network planner writes it, `1:7` (hG, session 60).

PyYAML reads an unquoted `1:7` as a YAML 1.1 base-60 integer, 1 x 60 + 7 = 67, so a system file copying the Llama 3
paper's "1:7 above each pod" built a 48:1 spine without a word. The product's YAML reader resolves no base-60
number (YAML 1.2), and the tier reads "1:7" and "7:1" as 7.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from infraplan.catalog.loader import load_system
from infraplan.catalog.schemas import NetworkTier
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cli.main import main
from infraplan.network.topology import build_topology

SYSTEM = """\
display_name: a 24,576-GPU three-tier Clos, 1:7 above each pod
source: hand-written (tests)
accelerator: h100-sxm
total_accelerators: 24576
node: {{accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: 400Gbps,
        cpus_per_node: 2, host_power_w: 4600W}}
network:
  kind: infiniband
  rail_optimized: true
  collective_efficiency: 0.94
  tiers:
    - {{name: leaf, group_size: 256, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: spine, group_size: 3072, oversubscription: {ratio}, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: core, group_size: 24576, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}}
"""


def _spine(tmp_path: Path, ratio: str) -> tuple[float, float]:
    path = tmp_path / f"clos-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(SYSTEM.format(ratio=ratio))
    system = load_system(str(path))
    tier = build_topology(system).tiers[1]
    return system.network.tiers[1].oversubscription, tier.effective_oversubscription


def test_yaml_reads_no_base_60_number() -> None:
    data = safe_load_yaml("a: 1:7\nb: 1:30:00\nc: 7\nd: 1.5\ne: 0x1f\nf: 1_000\n")
    assert data == {"a": "1:7", "b": "1:30:00", "c": 7, "d": 1.5, "e": 31, "f": 1000}


@pytest.mark.parametrize("ratio", ["1:7", "'1:7'", "'7:1'", "7:1"])
def test_a_ratio_builds_the_fabric_of_its_number(tmp_path: Path, ratio: str) -> None:
    assert _spine(tmp_path, ratio) == _spine(tmp_path, "7")
    configured, built = _spine(tmp_path, ratio)
    assert configured == 7.0 and built == pytest.approx(48 / 7)  # 48 down ports take 7 whole up ports


@pytest.mark.parametrize(("ratio", "words"), [("1:0", "both sides"), ("1:7:2", "expected a ratio"),
                                               ("a:b", "expected a ratio"), ("-1:7", "both sides")])
def test_a_ratio_that_is_not_one_is_named(ratio: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        NetworkTier(name="spine", group_size=3072, oversubscription=ratio)  # type: ignore[arg-type]


def test_the_cli_refuses_a_bad_ratio_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clos.yaml"
    path.write_text(SYSTEM.format(ratio="'1:0'"))
    assert main(["network", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "oversubscription '1:0'" in err
    path.write_text(SYSTEM.format(ratio="1:7"))
    assert main(["network", str(path), "--json"]) == 0
    spine = json.loads(capsys.readouterr().out)["tiers"][1]
    assert spine["configured_oversubscription"] == 7.0 and spine["up_ports_per_switch"] == 7
