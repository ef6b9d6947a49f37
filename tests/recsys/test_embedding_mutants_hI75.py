"""Mutation wave hI75 on `recsys.embedding.resolve_tiers` (hH2's placement module; no wave since session 57 listed it).

A profile tier takes its capacity and bandwidth from the accelerator catalog unless it states them
(`MemoryTierProfile`: "Capacity and bandwidth default to the accelerator catalog ... unless given here"), and a tier
the part lacks (no SRAM in the catalog entry: 0 bytes) is left out, not placed at 0 bytes.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.inference_loader import load_recsys_model, load_recsys_profile
from infraplan.catalog.recsys_schemas import MemoryTierProfile, RecsysProfile
from infraplan.errors import InputError
from infraplan.recsys.embedding import place, resolve_tiers


def _profile(*tiers: MemoryTierProfile) -> RecsysProfile:
    return RecsysProfile(accelerator="a100-80gb", source="a test", tiers=list(tiers))


def test_a_stated_bandwidth_wins_over_the_catalogs() -> None:
    a100 = load_accelerator("a100-80gb")
    stated = MemoryTierProfile(name="device", label="HBM2e", random_access_efficiency=0.4,
                               bandwidth_bytes_per_s=1.0e12)
    (device,) = resolve_tiers(a100, _profile(stated))
    assert device.bandwidth_bytes_per_s == 1.0e12 != a100.memory_bandwidth_bytes_per_s
    assert device.gather_bytes_per_s == pytest.approx(0.4e12)
    (catalog,) = resolve_tiers(a100, _profile(stated.model_copy(update={"bandwidth_bytes_per_s": None})))
    assert catalog.bandwidth_bytes_per_s == a100.memory_bandwidth_bytes_per_s


def test_a_tier_the_part_lacks_is_left_out() -> None:
    """EPYC 9654's catalog entry has no SRAM (0 bytes): a profile listing an SRAM tier places nothing there."""
    epyc = load_accelerator("epyc-9654")
    assert epyc.sram_bytes == 0
    sram = MemoryTierProfile(name="sram", label="SRAM", random_access_efficiency=0.6)
    device = MemoryTierProfile(name="device", label="DDR5", usable_fraction=0.9, random_access_efficiency=0.4)
    tiers = resolve_tiers(epyc, _profile(sram, device))
    assert [t.name for t in tiers] == ["device"]
    assert tiers[0].capacity_bytes == pytest.approx(0.9 * epyc.memory_bytes)


def test_a_table_split_across_tiers_reads_each_share_of_its_lookups_once() -> None:
    """MTIA v2 on dlrm-low: SRAM holds part of a table (rows split by tier), and a fraction f of a table's rows in a
    tier serves the fraction f of its lookups (module docstring of recsys.embedding), so the row bytes a sample
    gathers from all tiers together are the model's, however the tables split."""
    mtia = load_accelerator("mtia-v2")
    model = load_recsys_model("dlrm-low")
    placement = place(model, mtia, resolve_tiers(mtia, load_recsys_profile("mtia-v2", mtia.recsys_profile)))
    split = (placement.table_fraction > 0).sum(axis=1) > 1
    assert split.any()
    assert placement.embedding_bytes_per_sample(model).sum() == pytest.approx(
        sum(model.embedding_bytes_per_sample()), rel=1e-12)


def test_a_profile_without_device_memory_is_refused_in_one_line() -> None:
    """Dense weights and spilled tables need the device's memory: a profile of SRAM and host DRAM alone is refused
    by name, not placed."""
    a100 = load_accelerator("a100-80gb")
    sram = MemoryTierProfile(name="sram", label="L2", random_access_efficiency=0.6)
    host = MemoryTierProfile(name="host", label="host DRAM", random_access_efficiency=0.5, capacity_bytes=256e9)
    with pytest.raises(InputError, match="has no usable device-memory tier"):
        resolve_tiers(a100, _profile(sram, host))
