"""Network price catalog: switch models and per-speed transceiver/cable prices (`catalog/network_prices/*.yaml`).

Read through importlib.resources and validated by frozen pydantic models; every file carries its `source:`.
The Python loaders also take a path to a user's own price file (same layout); the CLI uses the shipped ones.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import Field

from infraplan.catalog.file_checks import BytesPerS, Watts
from infraplan.catalog.loader import validated
from infraplan.catalog.schemas import Spec
from infraplan.catalog.user_files import parse_text, read_user_file
from infraplan.catalog.versioned_cache import versioned_cache

NonNegative = Annotated[float, Field(ge=0)]
InNetworkReduction = Literal["none", "sharp-v2", "sharp-v3", "sharp-v4"]


class SwitchModel(Spec):
    family: Literal["infiniband", "ethernet"]
    radix: int = Field(gt=0)
    port_bandwidth_bytes_per_s: BytesPerS
    power_w: Watts
    price_usd: NonNegative
    in_network_reduction: InNetworkReduction = Field(
        "none", description="in-switch all-reduce NCCL can use (NVIDIA SHARP via CollNet); `network.sharp`")


class InfinibandGeneration(Spec):
    """The NVIDIA Quantum switch generation of one InfiniBand port speed, and the SHARP it does: what an InfiniBand
    tier with no catalogued model of its radix (priced per port) is built of (`network.sharp.sharp_switches`)."""

    port_bandwidth_bytes_per_s: BytesPerS
    generation: str = Field(min_length=1)
    in_network_reduction: InNetworkReduction


class PerPort(Spec):
    reference_port_bandwidth_bytes_per_s: BytesPerS
    usd: NonNegative
    power_w: NonNegative


class SwitchCatalog(Spec):
    source: str
    per_port: PerPort
    models: dict[str, SwitchModel]
    infiniband_generations: tuple[InfinibandGeneration, ...] = Field(
        (), description="the Quantum generation of each InfiniBand port speed, for tiers priced per port")

    def infiniband_generation(self, port_bytes_per_s: float) -> InfinibandGeneration | None:
        """The catalogued InfiniBand generation whose ports run at this speed, if any."""
        return next((g for g in self.infiniband_generations if g.port_bandwidth_bytes_per_s == port_bytes_per_s),
                    None)


class LinkPrice(Spec):
    port_bandwidth_bytes_per_s: BytesPerS
    transceiver_usd: NonNegative
    transceiver_power_w: Watts
    dac_usd: NonNegative
    fibre_usd: NonNegative


class LinkCatalog(Spec):
    source: str
    speeds: list[LinkPrice] = Field(min_length=1)

    def at(self, port_bytes_per_s: float) -> LinkPrice:
        """The entry of this speed, or the nearest one scaled linearly in bandwidth."""
        best = min(self.speeds, key=lambda s: abs(s.port_bandwidth_bytes_per_s - port_bytes_per_s))
        if best.port_bandwidth_bytes_per_s == port_bytes_per_s:
            return best
        f = port_bytes_per_s / best.port_bandwidth_bytes_per_s
        return LinkPrice(port_bandwidth_bytes_per_s=port_bytes_per_s, transceiver_usd=best.transceiver_usd * f,
                         transceiver_power_w=best.transceiver_power_w * f, dac_usd=best.dac_usd * f,
                         fibre_usd=best.fibre_usd * f)


def _read(name: str, path: str | None) -> Any:
    if path is not None:
        return read_user_file(path)
    entry = resources.files("infraplan.catalog") / "network_prices" / f"{name}.yaml"
    return parse_text(entry.read_text(), entry.name)


def load_switch_catalog(path: str | None = None) -> SwitchCatalog:
    """The switch price catalog, shipped or a user's file (read again when the file changes: `versioned_cache`)."""
    return _load_switch_catalog(path)


@versioned_cache(maxsize=16)
def _load_switch_catalog(path: str | None) -> SwitchCatalog:
    return validated(SwitchCatalog, _read("switches", path), path or "switches", "switch price file")


def load_link_catalog(path: str | None = None) -> LinkCatalog:
    """The link (optics, cable) price catalog, shipped or a user's file (read again when it changes)."""
    return _load_link_catalog(path)


@versioned_cache(maxsize=16)
def _load_link_catalog(path: str | None) -> LinkCatalog:
    return validated(LinkCatalog, _read("links", path), path or "links", "link price file")
