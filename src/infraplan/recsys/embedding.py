"""Where a recommendation model's state lives: memory tiers and the placement of weights and tables.

Tiers, fastest first: on-chip SRAM (MTIA's 128/256 MB; a GPU's L2 is a cache, not a placement target),
device memory (HBM / LPDDR / a CPU's DDR), and host DRAM behind the host link (PCIe), which a device
reads row by row (UVM-style) when tables spill. Each tier has a usable capacity, a peak bandwidth and a
random-access efficiency for pooled row gathers (EmbeddingBag / FBGEMM TBE), all data.

Placement is greedy and deterministic: the dense weights first (every sample reads all of them, through
the batch), then table groups in order of access density, pooled lookups per sample per row (hot, small
tables first), each split across tiers by rows when a tier fills. With uniform access within a table, a
fraction f of its rows in a tier serves the fraction f of its lookups. A model that does not fit in all
tiers together is an input error naming the table sizes and the capacities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infraplan.catalog.recsys_schemas import RecsysModel, RecsysProfile
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError


@dataclass(frozen=True)
class Tier:
    """A resolved memory tier of one accelerator."""

    name: str
    label: str
    capacity_bytes: float
    bandwidth_bytes_per_s: float
    random_access_efficiency: float
    streaming_efficiency: float

    @property
    def gather_bytes_per_s(self) -> float:
        return self.bandwidth_bytes_per_s * self.random_access_efficiency

    @property
    def stream_bytes_per_s(self) -> float:
        return self.bandwidth_bytes_per_s * self.streaming_efficiency


def resolve_tiers(accelerator: Accelerator, profile: RecsysProfile) -> list[Tier]:
    """Tiers with capacities and bandwidths filled in from the accelerator catalog where the profile is silent."""
    catalog = {
        "sram": (accelerator.sram_bytes, accelerator.sram_bandwidth_bytes_per_s),
        "device": (accelerator.memory_bytes, accelerator.memory_bandwidth_bytes_per_s),
        "host": (0.0, accelerator.host_link_bytes_per_s),
    }
    tiers = []
    for t in profile.tiers:
        capacity = t.capacity_bytes if t.capacity_bytes is not None else catalog[t.name][0]
        bandwidth = t.bandwidth_bytes_per_s if t.bandwidth_bytes_per_s is not None else catalog[t.name][1]
        if capacity <= 0 or bandwidth <= 0:
            continue  # e.g. no SRAM in the catalog entry, or a host tier on a device without a host link
        streaming = t.streaming_efficiency or accelerator.efficiency.memory_bandwidth_fraction
        tiers.append(Tier(t.name, t.label, capacity * t.usable_fraction, bandwidth, t.random_access_efficiency,
                          streaming))
    if not any(t.name == "device" for t in tiers):
        raise InputError(f"recsys profile of {accelerator.name!r} has no usable device-memory tier")
    return tiers


@dataclass(frozen=True)
class Placement:
    """Fractions of the dense weights and of each table group held by each tier (rows sum to 1)."""

    tiers: list[Tier]
    dense_fraction: np.ndarray  # [tier]
    table_fraction: np.ndarray  # [table group, tier]
    used_bytes: np.ndarray  # [tier]

    def embedding_bytes_per_sample(self, model: RecsysModel) -> np.ndarray:
        """Row bytes gathered per sample from each tier."""
        return np.asarray(model.embedding_bytes_per_sample()) @ self.table_fraction

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {t.name: {"label": t.label, "used_bytes": float(u), "capacity_bytes": t.capacity_bytes,  # type: ignore[dict-item]
                         "dense_fraction": float(d)}
                for t, u, d in zip(self.tiers, self.used_bytes, self.dense_fraction, strict=True)}


def _capacity_error(model: RecsysModel, accelerator: Accelerator, tiers: list[Tier]) -> InputError:
    gb = 1e9
    sizes = ", ".join(f"{t.count}x{t.rows:.3g} rows x {t.dim} = {b / gb:.3g} GB"
                      for t, b in zip(model.tables, model.table_bytes(), strict=True))
    caps = ", ".join(f"{t.label} {t.capacity_bytes / gb:.3g} GB" for t in tiers)
    total = model.embedding_bytes() + model.dense_bytes()
    return InputError(
        f"model {model.name!r} does not fit {accelerator.name}: embedding tables {model.embedding_bytes() / gb:.3g} GB "
        f"({sizes}) + dense weights {model.dense_bytes() / gb:.3g} GB = {total / gb:.3g} GB, but the usable "
        f"capacities are {caps} (total {sum(t.capacity_bytes for t in tiers) / gb:.3g} GB)"
    )


def place(model: RecsysModel, accelerator: Accelerator, tiers: list[Tier]) -> Placement:
    """Greedy placement of dense weights, then tables by access density, fastest tier first."""
    table_bytes = np.asarray(model.table_bytes())
    total = float(table_bytes.sum()) + model.dense_bytes()
    if total > sum(t.capacity_bytes for t in tiers) * (1.0 + 1e-12):
        raise _capacity_error(model, accelerator, tiers)
    density = np.array([t.pooling / t.rows for t in model.tables])
    order = sorted(range(len(model.tables)), key=lambda i: (-density[i], i))
    free = np.array([t.capacity_bytes for t in tiers], dtype=np.float64)
    dense_fraction = np.zeros(len(tiers))
    table_fraction = np.zeros((len(model.tables), len(tiers)))

    def fill(size: float, out: np.ndarray) -> None:
        left = size
        for j in range(len(tiers)):
            if left <= 0:
                break
            take = min(left, free[j])
            free[j] -= take
            out[j] = take / size if size > 0 else 0.0
            left -= take
        if size == 0:
            out[:] = 0.0
            out[next(j for j, t in enumerate(tiers) if t.name == "device")] = 1.0

    fill(model.dense_bytes(), dense_fraction)
    for i in order:
        fill(float(table_bytes[i]), table_fraction[i])
    used = np.array([t.capacity_bytes for t in tiers]) - free
    return Placement(tiers, dense_fraction, table_fraction, used)
