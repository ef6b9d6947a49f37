"""hV76: a system file extending a priced one (`node.server_price_usd`, hC76) keeps the base's price only for the
base's node. The price is a node's: with another accelerator, or another count a node, the base's price described
other servers (an H200 node's $400,000 made each B200 of a file extending it $50,000, and each GPU of a 4-GPU node
$100,000), so the part's own price applies unless the file states one."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.hardware_costs import accelerator_price
from infraplan.catalog.loader import load_accelerator, load_system
from infraplan.cluster.cluster import Cluster

PRICED = """name: priced-h200
extends: hgx-h200
node:
  server_price_usd: 400000
  server_price_source: a quote
"""


def _price(tmp_path: Path, text: str) -> float:
    """The price each accelerator of the file `text` (extending tmp_path/a.yaml, the priced hgx-h200) is given by
    the one price rule, as facility / plan / campus / serve read it."""
    (tmp_path / "a.yaml").write_text(PRICED, encoding="utf-8")
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    price = accelerator_price(Cluster.resolve(str(path)).accelerator)
    assert price is not None
    return price.server_usd_per_accelerator


@pytest.mark.parametrize(("text", "usd"), [
    ("name: b\nextends: a.yaml\n", 50_000.0),  # the base's node: its price
    ("name: b\nextends: a.yaml\nnetwork: {kind: roce}\n", 50_000.0),  # the same node on another fabric
    ("name: b\nextends: a.yaml\naccelerator: b200\n", None),  # another part: the part's own (below)
    ("name: b\nextends: a.yaml\nnode: {accelerators_per_node: 4}\n", None),  # another node: the part's own
    ("name: b\nextends: a.yaml\naccelerator: b200\nnode: {server_price_usd: 480000, server_price_source: q}\n",
     60_000.0),  # stated: its own
])
def test_an_extending_file_keeps_the_base_price_for_the_base_node_only(tmp_path: Path, text: str,
                                                                      usd: float | None) -> None:
    own = _price(tmp_path, text)
    catalog = accelerator_price(load_accelerator(load_system(str(tmp_path / "b.yaml")).accelerator))
    assert catalog is not None and catalog.server_usd_per_accelerator != 50_000.0  # (the catalog's B200, H200: not)
    assert own == (catalog.server_usd_per_accelerator if usd is None else usd)
    node = load_system(str(tmp_path / "b.yaml")).node
    assert (node.server_price_usd is None) == (usd is None)
    assert (node.server_price_source == "") == (usd is None)


def test_the_host_share_rule_still_holds_beside_it(tmp_path: Path) -> None:
    """The base's host power goes with another part, as before hV76 (`loader._own_node` holds both rules)."""
    _price(tmp_path, "name: b\nextends: a.yaml\naccelerator: b200\n")
    base, own = load_system("hgx-h200"), load_system(str(tmp_path / "b.yaml"))
    assert base.node.host_power_w is not None
    assert own.node.host_power_w != base.node.host_power_w or own.node.host_power_source != base.node.host_power_source
