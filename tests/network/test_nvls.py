"""NVLS (NVLink SHARP) all-reduce inside one NVSwitch domain: catalog figures, the rule, the float twin."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.cluster import Cluster
from infraplan.network import nvlink_all_reduce
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import (
    Fabric,
    all_reduce_time,
    collective_seconds,
    collective_time,
    forget_float_values,
)

GiB = 2.0**30


def _fabric(system: str, nvls: bool) -> Fabric:
    spec = load_system(system)
    acc = load_accelerator(spec.accelerator)
    acc = acc.model_copy(update={"efficiency": acc.efficiency.model_copy(update={"nvls_all_reduce_enabled": nvls})})
    return Fabric.from_system(spec, acc)


def _busbw_gb_per_s(seconds: float, size: float, n: int) -> float:
    return size / seconds * 2.0 * (n - 1) / n / 1e9


@pytest.fixture(scope="module")
def h100_nvls() -> Fabric:
    return _fabric("dgx-h100-superpod", nvls=True)


def test_catalog_figures_have_sources_and_are_on_where_published() -> None:
    """Only H100 / H200 / H800 carry a published NVLS figure (network.md) and enable it; none is priced unless
    enabled. H800 since hF (session 52): 215 GB/s, nccl issue #1374 and SimAI's NVLS constant (h800.yaml), above its
    ring's ceiling of 200 GB/s per direction; before, unset, `auto` ran the ring at 160 GB/s."""
    assert load_accelerator("h100-sxm").efficiency.nvls_all_reduce_bus_bytes_per_s == pytest.approx(480e9)
    assert load_accelerator("h200").efficiency.nvls_all_reduce_bus_bytes_per_s == pytest.approx(475e9)
    assert load_accelerator("h800").efficiency.nvls_all_reduce_bus_bytes_per_s == pytest.approx(215e9)
    for name in ("a100-80gb", "b200", "gb200", "mi300x"):
        assert load_accelerator(name).efficiency.nvls_all_reduce_bus_bytes_per_s is None, name
    for name in ("h100-sxm", "h200", "h800"):
        assert load_accelerator(name).efficiency.nvls_all_reduce_enabled
    for name in ("a100-80gb", "b200", "mi300x"):
        assert not load_accelerator(name).efficiency.nvls_all_reduce_enabled
    assert _fabric("dgx-h100-superpod", nvls=False).nvls_bytes_per_s == 0.0
    assert _fabric("dgx-b200", nvls=True).nvls_bytes_per_s == 0.0  # enabled without a figure: nothing to price


@pytest.mark.parametrize(("system", "published_gb_per_s"), [("dgx-h100-superpod", 480.0), ("hgx-h200", 475.0)])
def test_eight_rank_large_all_reduce_reaches_published_nvls_busbw(system: str, published_gb_per_s: float) -> None:
    on, off = _fabric(system, nvls=True), _fabric(system, nvls=False)
    size = 8 * GiB
    nvls = _busbw_gb_per_s(float(all_reduce_time(on, size, 8, 1)), size, 8)
    assert nvls == pytest.approx(published_gb_per_s, rel=0.01)
    ring = _busbw_gb_per_s(float(all_reduce_time(off, size, 8, 1)), size, 8)
    assert ring < 0.8 * nvls  # the ring figure (365-370 GB/s) is what NVLS replaces
    assert float(all_reduce_time(on, size, 8, 1, algorithm="ring")) == float(all_reduce_time(off, size, 8, 1))


def test_nvls_wins_only_with_enough_ranks(h100_nvls: Fabric) -> None:
    """A ring moves 2 (n-1)/n of the buffer per direction, NVLS (1 + 1/n): a TP2 pair stays on the ring, TP8 gains."""
    off = dataclasses.replace(h100_nvls, nvls_bytes_per_s=0.0)
    size = 256 * 2.0**20
    assert collective_time(h100_nvls, "all_reduce", size, 2, 1) == collective_time(off, "all_reduce", size, 2, 1)
    ratio = [float(collective_time(h100_nvls, "all_reduce", size, n, 1)
                   / collective_time(off, "all_reduce", size, n, 1)) for n in (4, 8)]
    assert ratio[1] < ratio[0] <= 1.0
    assert ratio[1] == pytest.approx(0.82 * 450.0 / 480.0, rel=0.02)  # ring busbw / NVLS busbw on 8 ranks


def test_nvls_stays_inside_the_domain_and_out_of_small_messages(h100_nvls: Fabric,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    off = dataclasses.replace(h100_nvls, nvls_bytes_per_s=0.0)
    small, large = 2.0**19, 2.0**26
    # the alpha-beta candidates: NVLS's tuner latency (`NVLS_LATENCY_S`) keeps it out of small messages (4 KiB sized
    # with the SimAI column, whose efficiency divides NVLS's fewer bytes too; 512 KiB on the alpha-beta line), its
    # bytes per rank win large ones (the measured in-domain curve, which scales with the group's large-message rate,
    # NVLS's where the fabric has it, is tested in test_nvlink_all_reduce.py)
    monkeypatch.setattr(nvlink_all_reduce, "MEASURED_NVLINK_ALL_REDUCE", False)
    assert all_reduce_time(h100_nvls, 4096.0, 8, 1, sized=True) == all_reduce_time(off, 4096.0, 8, 1, sized=True)
    assert all_reduce_time(h100_nvls, small, 8, 1) == all_reduce_time(off, small, 8, 1)
    assert all_reduce_time(h100_nvls, large, 8, 1, sized=True) < all_reduce_time(off, large, 8, 1, sized=True)
    monkeypatch.undo()
    assert all_reduce_time(h100_nvls, large, 8, 1, sized=True) < all_reduce_time(off, large, 8, 1, sized=True)
    for n, stride in ((16, 1), (2, 8), (64, 8)):  # groups that leave the 8-GPU NVSwitch domain
        assert all_reduce_time(h100_nvls, GiB, n, stride, sized=True) == all_reduce_time(off, GiB, n, stride,
                                                                                         sized=True), (n, stride)


def test_float_twin_matches_the_array_path_with_nvls(h100_nvls: Fabric) -> None:
    forget_float_values()
    sizes = [1.0, 2.0**20 - 1.0, 2.0**20, 4.0e6, 3.0e7, 2.5e8, 8 * GiB]  # 4 MB: NVLS beside the tree (8 ranks)
    for size in sizes:
        for n, stride in ((1, 1), (2, 1), (4, 2), (8, 1), (16, 1), (8, 8)):
            array = collective_time(h100_nvls, "all_reduce", np.array([size, size]), np.array([n, n]),
                                    np.array([stride, stride]))
            one = collective_seconds(h100_nvls, "all_reduce", size, n, stride)
            assert one == float(array[0]) == float(collective_time(h100_nvls, "all_reduce", size, n, stride)), (
                size, n, stride)


def test_h800_board_auto_all_reduce_runs_nvls_at_its_published_busbw() -> None:
    """hF (session 52), out of sample: 8x H800 all-reduce busbw 215 GB/s (nccl issue #1374; SimAI's H800 NVLS
    constant), above the ring's ceiling (200 GB/s per direction x 0.80 = 160 GB/s). Before the h800 entry carried
    NVLS, `auto` ran the ring: 160 GB/s, -26 %. The `collective` command's answer (as `infraplan collective
    all-reduce --system h800 --gpus 8 --bytes 8GiB` prints it)."""
    cluster = Cluster.resolve("h800")
    result = estimate_collective("all-reduce", cluster, 8, 8 * GiB)
    assert result.algorithm == "nvls"
    assert result.busbw_bytes_per_s / 1e9 == pytest.approx(215.0, rel=0.01)
    ring = estimate_collective("all-reduce", cluster, 8, 8 * GiB, algorithm="ring")
    assert ring.busbw_bytes_per_s / 1e9 == pytest.approx(160.0, rel=0.01)
