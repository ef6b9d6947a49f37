"""catalog/facility/network.yaml holds no dead data (hK77): every figure in it moves an answer. Until hK77 it carried
a per-port price and power ($1,500 and 25 W a 400G port) that no answer read (the built fabric is priced from
catalog/network_prices/, whose switches.yaml `per_port` is the one per-port estimate); doubling them moved nothing."""

from __future__ import annotations

import pytest

from infraplan.catalog import facility_loader
from infraplan.catalog.facility_loader import NetworkCost, load_network_cost
from infraplan.cluster.cost import CostOverrides
from infraplan.cluster.generic import fabric_radix
from infraplan.facility.facility import size_facility

PORT_PRICED = CostOverrides(switch_port_usd=1500.0)  # a --costs file's per-port network: the reference port's speed


def _answer() -> tuple[float, float, float, int]:
    """IT power of 4,096 H100 on the generic fabric, its network capex priced by the bill and by a --costs file's
    switch_port_usd, and the radix of a generic fabric for a node with no switch of its own (a part file without a
    reference system: `generic.fabric_radix`; the catalog's parts resolve theirs once, cached)."""
    bill = size_facility(accelerator="h100-sxm", count=4096, location="ohio")
    ported = size_facility(accelerator="h100-sxm", count=4096, location="ohio", overrides=PORT_PRICED)
    assert bill.capex_usd is not None and ported.capex_usd is not None
    return bill.it_power_w, bill.capex_usd["network"], ported.capex_usd["network"], fabric_radix(None)


@pytest.mark.parametrize("field", [f for f in NetworkCost.model_fields if f != "source"])
def test_every_network_yaml_figure_moves_an_answer(field: str, monkeypatch: pytest.MonkeyPatch) -> None:
    base = _answer()
    net = load_network_cost()
    value = getattr(net, field)
    changed = net.model_copy(update={field: type(value)(value * 2)})
    monkeypatch.setattr(facility_loader, "load_network_cost", lambda: changed)  # every reader looks it up here or
    for module in ("infraplan.cluster.power", "infraplan.planning.device_money", "infraplan.facility.campus_fabric"):
        monkeypatch.setattr(f"{module}.load_network_cost", lambda: changed)  # imported it by name
    assert _answer() != base, f"network.yaml's {field} is read by no answer"
