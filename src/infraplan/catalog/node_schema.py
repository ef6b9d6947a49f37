"""The node (server) of a system file (`catalog.schemas.System.node`): its accelerators, scale-up domain, NICs, host
power, rack units and, since hC76, its own server price (`server_price_usd` with `server_price_source`). Its own
module so catalog/schemas.py stays under the module cap."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infraplan.catalog.file_checks import DeviceBytesPerS, DeviceWatts, RackUnits
from infraplan.catalog.spec_base import Spec


class Node(Spec):
    """A server: accelerators, the scale-up domain they share, and the NICs to the scale-out fabric."""

    accelerators_per_node: int = Field(gt=0)
    scale_up_domain: int = Field(gt=0, description="accelerators sharing one NVLink/IF/ICI domain")
    placement: Literal["fill", "slurm_segment"] = Field(
        "fill", description="how a job's consecutive ranks fill the domains (`network.placement`): fill = every GPU "
        "of each domain in rank order; slurm_segment = NeMo's GB200 launcher, Slurm --segment of the largest "
        "divisor of the node count that fits one domain")
    nics_per_node: int = Field(ge=0)
    nic_bandwidth_bytes_per_s: DeviceBytesPerS = Field(description="per NIC, per direction")
    cpus_per_node: int = Field(2, ge=0)
    host_power_w: DeviceWatts = Field(0.0, description="node power besides accelerators (CPUs, NICs, fans, PSU loss); "
                                      "unset: its accelerator's host share a device (cluster/host_share.py)")
    host_power_source: str = Field("", description="where host_power_w comes from (a published system power less its "
        "accelerators, or a labelled ASSUMPTION: every platform per-watt answer says it, `cluster.host_share`)")
    scale_up_switch_power_w: DeviceWatts = Field(0.0, description="per scale-up domain, its switches outside the "
        "nodes' own power (NVL72: 9 NVSwitch trays); 0: counted in host_power_w (an NVSwitch baseboard) or none")
    scale_up_switch_source: str = Field("", description="where that figure comes from, or why 0 (needed above 0)")
    server_rack_units: RackUnits | None = Field(None, description="server height in rack units (U), e.g. 4 for a "
        "liquid-cooled 4U HGX, 1..42; unset: the catalog's (hardware_costs.yaml), else rack space is not counted")
    server_rack_units_source: str = Field("", description="where `server_rack_units` comes from (needed with it)")
    racks_per_scale_up_domain: int = Field(1, ge=1)  # (its description: catalog/entry_fields.yaml)
    host_kernel_dispatch_s: float = Field(
        2.6e-5, ge=0,
        description="host time to issue one kernel in eager PyTorch (measured 26 us, torch 2.11 on an H100 host; "
        "0 models CUDA graphs); the GPU cannot run ahead of it",
    )
    server_price_usd: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="what one node (server, or NVL72 compute tray: its "
        "accelerators_per_node) costs, its share of in-rack scale-up switches included, USD; the one cost model "
        "prices each accelerator of the system at it / accelerators_per_node (`catalog.server_price."
        "with_server_price`: facility, campus, plan, fleet-mix, serve, web), before the part's price_usd and the "
        "catalog's; unset: those")
    server_price_source: str = Field("", description="where `server_price_usd` comes from (needed with it)")

    @model_validator(mode="after")
    def _price_sourced(self) -> Node:
        if self.server_price_usd is not None and not self.server_price_source.strip():
            raise ValueError("node.server_price_usd needs node.server_price_source (where the price comes from)")
        return self
