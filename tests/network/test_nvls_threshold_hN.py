"""NVLS joins the `auto` all-reduce at NCCL's tuner latency, at every size (hN, session 38;
network/nvlink_all_reduce.py).

Before: NVLS paid two 3 us NVLink steps and entered `auto` only from a 1 MiB threshold (an ASSUMPTION), so the
`collective` command's 8-H100 all-reduce fell from 23.7 us (tree, 1023 KiB) to 9.8 us (NVLS, 1 MiB), 0.39x
AIConfigurator's measured NCCL 2.29.2 time there (25.41 us), and the sized line train and serve price stepped down
by up to 19 % at 1 MiB on 5-7 GPUs. Now NVLS pays its tuner's 25 us (NCCL 2.30.7 hwLat, `NVLS_LATENCY_S`) and `auto`
is the least time over ring, tree and NVLS wherever they run, so it grows with the message.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.data_files import read_rows
from infraplan.cluster import Cluster
from infraplan.network.collective_formulas import all_reduce_time
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.nvlink_all_reduce import NVLS_LATENCY_S

MiB = 2.0**20
BOARDS = ["dgx-h100-superpod", "hgx-h200"]  # the catalog's accelerators that run NVLS (h100-sxm, h200)


def test_nvls_pays_nccls_tuner_latency_at_every_size() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    assert NVLS_LATENCY_S == 25e-6  # NCCL 2.30.7 tuning tables: hwLat[NVLink][NVLS][Simple], baseLat 0
    for size in (8.0, 64 * 1024.0, MiB, 1e9):
        by_hand = 25e-6 + (1.0 + 1.0 / 8.0) * size / fabric.nvls_bytes_per_s
        assert float(all_reduce_time(fabric, size, 8, 1, algorithm="nvls")) == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("system", BOARDS)
def test_the_commands_auto_all_reduce_grows_with_the_message_in_one_board(system: str) -> None:
    cluster = Cluster.resolve(system)
    fabric = cluster.fabric
    sizes = np.round(np.geomspace(64 * 1024.0, 64 * MiB, 61))  # whole bytes, as the command takes them (hN55)
    for n in range(2, 9):
        answers = [estimate_collective("all-reduce", cluster, n, float(s)) for s in sizes]
        times = np.array([r.time_s for r in answers])  # the priced time since hC52; its alpha-beta line beside it
        lines = np.array([r.alpha_beta_time_s for r in answers])
        # (the priced time is flat where a table's small-message times are, H200's at 128-512 KiB: within an ulp)
        assert np.all(np.diff(times) >= -1e-12 * times[1:]) and np.all(np.diff(lines) >= 0.0), n
        candidates = np.min([all_reduce_time(fabric, sizes, n, 1, algorithm=a) for a in ("ring", "tree", "nvls")],
                            axis=0)
        assert lines.tolist() == candidates.tolist(), n  # the least time over what NCCL would run, nothing dropped


def test_auto_takes_nvls_where_its_fewer_bytes_repay_its_latency() -> None:
    """8 H100: tree 6 x 3 us + 2 S / B against NVLS 25 us + 9/8 S / B_nvls: the tree to ~3.8 MiB, NVLS above."""
    cluster = Cluster.resolve("dgx-h100-superpod")
    algorithms = {s: estimate_collective("all-reduce", cluster, 8, s * MiB).algorithm for s in (0.5, 1, 3, 4, 16)}
    assert algorithms == {0.5: "tree", 1: "tree", 3: "tree", 4: "nvls", 16: "nvls"}


def test_the_commands_small_all_reduce_on_8_h100_is_near_nccls_measured_time() -> None:
    """The alpha-beta auto at 64 KiB - 1 MiB against AIConfigurator's measured NCCL 2.29.2 all-reduce on 8 H100
    (catalog/nccl/aiconfigurator_h100_all_reduce.csv, NCCL's own algorithm choice, NVLS enabled): 0.93-1.07x (1 MiB
    was 0.39x with NVLS at two NVLink steps)."""
    cluster = Cluster.resolve("dgx-h100-superpod")
    for row in read_rows("infraplan.catalog", "nccl", "aiconfigurator_h100_all_reduce.csv"):
        size = float(row["size_bytes"])
        if size > MiB:
            break
        ratio = estimate_collective("all-reduce", cluster, 8, size).time_s / (float(row["nccl_8gpu_us"]) * 1e-6)
        assert 0.9 < ratio < 1.1, size


@pytest.mark.parametrize("system", BOARDS)
def test_the_sized_in_domain_all_reduce_grows_across_1_mib_on_5_to_7_gpus(system: str) -> None:
    """The line train and serve price (the measured curve bounds the alpha-beta candidates): H100 at 5 GPUs fell
    19 % from 0.96 to 1 MiB where NVLS entered at the threshold."""
    fabric = Cluster.resolve(system).fabric
    sizes = 2.0 ** np.arange(18, 23, 1 / 16)
    for n in (5, 6, 7):
        t = all_reduce_time(fabric, sizes, n, 1, sized=True)
        assert np.all(np.diff(t) > 0.0), n
