"""hM76 mutation wave: `catalog.server_price.with_server_price`, `catalog.node_schema.Node`'s price check and
`catalog.hardware_costs.assumed_network_notes`, on cases the hC76 tests left open (a node of fewer accelerators
than its scale-up domain, the part's price source, a blank source, the link line's own reason, a sourced file)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infraplan.catalog import hardware_costs
from infraplan.catalog.loader import load_accelerator, load_system
from infraplan.catalog.network_price_loader import load_link_catalog, load_switch_catalog
from infraplan.catalog.node_schema import Node
from infraplan.catalog.schemas import System
from infraplan.catalog.server_price import with_server_price


def _priced(ref: str, usd: float, source: str = "vendor quote Q-17") -> System:
    system = load_system(ref)
    node = Node.model_validate({**system.node.model_dump(), "server_price_usd": usd, "server_price_source": source})
    return System.model_validate({**system.model_dump(), "node": node.model_dump()})


def test_a_compute_tray_is_priced_per_accelerator_of_the_node_not_of_the_domain() -> None:
    """GB200 NVL72: 4 GPUs a compute tray, 72 a scale-up domain. A $3.2M tray (its share of the NVSwitch trays
    included) is $800,000 a GPU: / accelerators_per_node (4), not / scale_up_domain (72: $44,444)."""
    system = _priced("gb200-nvl72", 3_200_000.0)
    assert (system.node.accelerators_per_node, system.node.scale_up_domain) == (4, 72)
    part = with_server_price(system, load_accelerator(system.accelerator))
    assert part.price_usd == pytest.approx(800_000.0, rel=1e-12)


def test_the_parts_price_source_names_the_file_the_node_and_its_source() -> None:
    system = _priced("gb200-nvl72", 3_200_000.0, source="vendor quote Q-17")
    source = with_server_price(system, load_accelerator(system.accelerator)).price_source
    assert source == "gb200-nvl72's node.server_price_usd, $3,200,000 a 4-accelerator node: vendor quote Q-17"


def test_no_server_price_leaves_the_part_as_it_is() -> None:
    system = load_system("hgx-h200")
    part = load_accelerator(system.accelerator)
    assert with_server_price(system, part) is part


@pytest.mark.parametrize("source", ["", "   ", "\t\n"])
def test_a_blank_server_price_source_is_refused(source: str) -> None:
    data = {**load_system("hgx-h200").node.model_dump(), "server_price_usd": 400_000.0, "server_price_source": source}
    with pytest.raises(ValidationError, match="needs node.server_price_source"):
        Node.model_validate(data)


def test_the_link_line_gives_links_yamls_own_reason_and_its_remedy() -> None:
    """links.yaml's source: "ASSUMPTIONS (U): prices are order-of-magnitude 2024 street prices; no published price
    found." -> its reason after the label's colon, to the first sentence's end; switches.yaml's reason is its first
    sentence only ("no published switch price or measured power found"), not the next ("Prices are ...")."""
    assert "ASSUMPTIONS (U): prices are order-of-magnitude" in " ".join(load_link_catalog().source.split())
    links = hardware_costs.assumed_network_notes(["links"])
    assert links == ["network: the transceiver and cable prices are ASSUMED (catalog/network_prices/links.yaml: "
                     "prices are order-of-magnitude 2024 street prices; no published price found); a --costs file's "
                     "switch_port_usd (the network per port) replaces them"]
    switches = hardware_costs.assumed_network_notes(["switches"])
    assert len(switches) == 1 and switches[0].startswith(
        "network: the switch prices (and typical powers) are ASSUMED (catalog/network_prices/switches.yaml: no "
        "published switch price or measured power found); a tier's own switch in the system file")
    assert switches[0].endswith("or a --costs file's switch_port_usd replaces them")


def test_a_sourced_price_file_gives_no_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog file whose source carries no ASSUMPTION label: its kind is not said (the other still is)."""
    sourced = load_switch_catalog().model_copy(update={"source": "Vendor list prices, 2025 (a published sheet)."})
    monkeypatch.setattr(hardware_costs, "load_switch_catalog", lambda: sourced)
    notes = hardware_costs.assumed_network_notes(["switches", "links"])
    assert [n.split(" are ")[0] for n in notes] == ["network: the transceiver and cable prices"]
