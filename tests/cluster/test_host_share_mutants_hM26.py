"""Mutation wave hM26 on the scale-up switch share (session 47, hN52 / hH53: `cluster.host_share`): the two
survivors of the hand mutants, each against a rule of the module's docstring.

* `HostShare.source` is where `watts` comes from: on an NVL72 part, the host's figure and the switch trays' (recsys
  prints it beside the 500 W it explains: 450 W of host + 3,600 W / 72 of trays).
* A scale-up domain inside one server (an HGX / DGX baseboard) holds its switches in the node's figure: no note that
  switches outside the nodes are missing, even where the file states no `scale_up_switch_power_w`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.catalog.loader import preset_files
from infraplan.cluster import Cluster
from infraplan.cluster.host_share import host_share, unstated_switch_note
from infraplan.recsys.estimate import estimate_recsys


def test_the_share_s_source_names_the_switch_trays_it_adds() -> None:
    share = host_share("gb200")
    assert share.watts == pytest.approx(1800.0 / 4 + 3600.0 / 72)  # gb200-nvl72.yaml: tray host, 9 switch trays
    assert "1800 W of host for 4 accelerators" in share.source
    assert "3600 W per 72-accelerator domain" in share.source
    note = estimate_recsys("dlrm-low", "gb200").assumptions["host_share"]
    assert note.startswith("500 W per device") and "3600 W per 72-accelerator domain" in note


def test_a_one_server_domain_without_a_switch_figure_needs_no_note(tmp_path: Path) -> None:
    data = yaml.safe_load(preset_files("systems")["dgx-h100-superpod"].read_text())
    node = data["node"]
    assert node["scale_up_domain"] == node["accelerators_per_node"] == 8
    for key in ("scale_up_switch_power_w", "scale_up_switch_source"):
        node.pop(key, None)
    data["name"] = "my-dgx"
    path = tmp_path / "my-dgx.yaml"
    path.write_text(yaml.safe_dump(data))
    system = Cluster.resolve(str(path)).system
    assert "scale_up_switch_power_w" not in system.node.model_fields_set
    assert unstated_switch_note(system) is None
