"""One balancing rule for `train` / `serve`, `collective --sim analytical` and the flow model (hB74).

hE74 priced ECMP's hash collisions in train and serve only where a system file states `load_balancing: ecmp`, while
`collective` and the flow model hashed every fabric whose `Network.balancing` is ecmp, the kind's default included:
on a generic cluster (`--system h100-sxm`: kind roce, `gaudi2`, `h800`: ethernet) `collective send-recv --gpus 512`
answered 3-5x what train priced for the same pipeline hop (gaudi2 512: 10.91 ms against 1.99 ms), and on a user
file that `extends` an InfiniBand system with `kind: roce` 4.35 ms against 1.43 ms. Now all three read
`Network.balancing`; a generic cluster states its fabric: an idealised non-blocking Clos balanced adaptively (its
`load_balancing_source` says so, and `collective`'s assumptions quote it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.cluster.generic import GENERIC_BALANCING_SOURCE
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import send_recv_seconds

SIZE = 64 * 2**20


def _roceish(folder: Path) -> Cluster:
    """A user's file: meta-genai-ib-24k restated as RoCE, no load_balancing (the kind's default: ecmp, hN74)."""
    (folder / "roceish.yaml").write_text("extends: meta-genai-ib-24k\nnetwork: {kind: roce}\n")
    return Cluster.resolve(str(folder / "roceish.yaml"))


@pytest.mark.parametrize(("ref", "gpus"), [("h100-sxm", 512), ("h100-sxm", 2048), ("h800", 2048),
                                           ("gaudi2", 512), ("mi355x", 1024)])
def test_a_generic_cluster_states_an_even_spread_and_every_model_prices_it(ref: str, gpus: int) -> None:
    """The generic Clos says what it is (adaptive, with its source), carries no ECMP pools, and the pipeline hop
    train prices, `collective send-recv --gpus 2s`'s answer and the flow model's are one time (the kinds' default
    would have hashed: roce / ethernet)."""
    cluster = Cluster.resolve(ref).for_gpus(gpus)
    net = cluster.system.network
    assert net.kind in ("roce", "ethernet")  # the kind alone would say ecmp
    assert (net.load_balancing, net.balancing, net.load_balancing_source) == (
        "adaptive", "adaptive", GENERIC_BALANCING_SOURCE)
    assert cluster.fabric.ecmp_pools == ()
    train = send_recv_seconds(cluster.fabric, SIZE, gpus // 2)
    said = estimate_collective("send-recv", cluster, gpus, SIZE)
    flow = estimate_collective("send-recv", cluster, gpus, SIZE, sim="flow")
    assert said.time_s == pytest.approx(train, rel=1e-9) and said.priced_time_s == pytest.approx(train, rel=1e-9)
    assert flow.time_s == pytest.approx(train, rel=1e-3) and flow.difference_reason is None
    assert flow.seed is None  # adaptive routing draws nothing
    assert "generic cluster (cluster/generic.py): an idealised non-blocking Clos" in said.assumptions[1]
    assert said.assumptions[1].startswith("adaptive routing")


def test_the_generic_h800_prices_deepseeks_infiniband_spread() -> None:
    """DeepSeek-V3's H800 ran InfiniBand (arXiv:2412.19437 sec. 3.1): the generic H800 cluster, kind ethernet,
    prices the even spread, so its data-parallel and pipeline traffic carries no ECMP factor (docs/usage.md's
    2.80 M GPU-hours stays)."""
    cluster = Cluster.resolve("h800").for_gpus(2048)
    even = send_recv_seconds(cluster.fabric, SIZE, 1024)
    net = cluster.system.network.model_copy(update={"load_balancing": None, "load_balancing_source": ""})
    by_kind = Cluster.resolve(cluster.system.model_copy(update={"network": net}))
    assert by_kind.fabric.ecmp_pools  # its kind's default would hash one flow a pair
    assert send_recv_seconds(by_kind.fabric, SIZE, 1024) > 1.5 * even


@pytest.mark.parametrize(("gpus", "gap"), [(512, 1e-9), (1024, 1e-9), (2048, 1e-9), (4096, 1e-9)])
def test_a_file_restated_as_roce_is_hashed_by_train_as_collective_hashes_it(tmp_path: Path, gpus: int,
                                                                           gap: float) -> None:
    """`extends: meta-genai-ib-24k` + `kind: roce`, no load_balancing: ECMP at 1 flow a pair in train too. Within
    the spine domain (<= 2,048) train's pipeline hop is collective's answer, and across the core too since hE75
    (both price the expected worst of the two hashed tiers, `ecmp_tiers.slowest_of_hashed`; it was 3.2 % above the
    worse of their expectations). The flow model's mean over 6 seeds is within hE73's 10 %."""
    roce = _roceish(tmp_path)
    assert roce.system.network.load_balancing is None and roce.system.network.balancing == "ecmp"
    assert roce.fabric.ecmp_pools and roce.fabric.ecmp_flows == 1
    train = send_recv_seconds(roce.fabric, SIZE, gpus // 2)
    said = estimate_collective("send-recv", roce, gpus, SIZE)
    assert said.priced_time_s == pytest.approx(train, rel=1e-9)
    assert train <= said.time_s <= train * (1 + gap)
    ib = Cluster.resolve("meta-genai-ib-24k")
    assert train > 2.3 * send_recv_seconds(ib.fabric, SIZE, gpus // 2)  # the even spread (the base's train)
    flows = [estimate_collective("send-recv", roce, gpus, SIZE, sim="flow", seed=s).time_s for s in range(6)]
    assert said.time_s == pytest.approx(float(np.mean(flows)), rel=0.10)
    assert "load_balancing omitted, so roce's default" in said.assumptions[1]
