"""A planeless 3-tier ECMP fabric's descent from the cluster tier draws its ports again, priced as routed (hE76).

`routing.route` forces a descent's switch to the climb's only where every tier up to the turn is split in planes:
on meta-genai-roce-24k (no planes) a pair crossing pods turns at an aggregation switch and descends into the
partner pod through a spine drawn again, so the partner pod's down pools are fresh throws. hE75's priced line
(`ecmp_tiers`) counted only the climb's pools and its routed line (`ecmp_collisions._mirrored`) took the turn's
descent as the climb's: 6,144 / 12,288 GPUs (2 / 4 whole pods) priced 11.162 / 11.261 ms where the flow model's mean
is 11.253 +- 0.010 / 11.331 +- 0.008 ms (300 seeds each: -0.8 / -0.6 %). Both now count the descents: 11.261 /
11.353 ms (+0.07 / +0.20 %), priced = routed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network import ecmp_tiers
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import send_recv_seconds

SIZE = 64 * 2**20


@pytest.mark.parametrize(("gpus", "least_s"), [(6144, 11.25e-3), (12288, 11.34e-3)])
def test_whole_pods_price_the_descents_in_train_and_collective_alike(gpus: int, least_s: float) -> None:
    """Pairs of whole pods: train's pipeline hop, `collective`'s priced time and its answer (the max of the priced
    time and the routed line) are one number, above hE75's climb-only 11.162 / 11.261 ms."""
    roce = Cluster.resolve("meta-genai-roce-24k")
    said = estimate_collective("send-recv", roce, gpus, SIZE)
    train = send_recv_seconds(roce.fabric, SIZE, gpus // 2)
    assert said.priced_time_s == pytest.approx(train, rel=1e-9)
    assert said.time_s == pytest.approx(train, rel=1e-9)  # the routed line counts the same pools
    assert train > least_s


def test_the_flow_models_mean_follows_the_priced_descents() -> None:
    """Seeds 0-19 of the flow model at 6,144 GPUs: mean 11.254 ms, within 0.6 % of the priced 11.261 (its 300-seed
    mean 11.253 +- 0.010 ms; hE75's 11.162 was 0.8 % under)."""
    roce = Cluster.resolve("meta-genai-roce-24k")
    priced = send_recv_seconds(roce.fabric, SIZE, 3072)
    flows = [estimate_collective("send-recv", roce, 6144, SIZE, sim="flow", seed=s).time_s for s in range(20)]
    assert float(np.mean(flows)) == pytest.approx(priced, rel=0.006)


def test_which_descents_draw_again() -> None:
    """Planeless 3 tiers (rack 16, pod 3,072, cluster): the pod tier's flows all turn at the cluster and redraw; the
    rack tier's redraw where the stride spans a pod (a pipeline hop of 4,096), not a stride-1 ring's (which turn at
    the pod's spine, the climb's own switch). Planed up to the turn (ib-24k's spine and core), or a 2-tier fabric:
    never."""
    sizes = (16, 3072, 24576)
    strides = np.asarray([1.0, 16.0, 2048.0, 3072.0, 4096.0])
    planeless = (False, False, False)
    assert ecmp_tiers.descent_redrawn(planeless, 0, strides, sizes).tolist() == [False, False, False, True, True]
    assert ecmp_tiers.descent_redrawn(planeless, 1, strides, sizes).all()
    for planed in ((False, True, True), (False, False, True)):  # the descent's spine forced by the core's plane
        assert not ecmp_tiers.descent_redrawn(planed, 1, strides, sizes).any()
    assert not ecmp_tiers.descent_redrawn((False, True, True), 0, strides, sizes).any()
    assert ecmp_tiers.descent_redrawn((False, True, False), 0, strides, sizes).tolist() == [False] * 3 + [True] * 2
    assert not ecmp_tiers.descent_redrawn((False, False), 0, strides, (16, 4096)).any()


def test_planed_fabrics_keep_their_answers(tmp_path: Path) -> None:
    """hB74's ib-24k restated as RoCE (spine and core in planes): its descents stay forced, hE75's answers unchanged
    (4,096 / 8,192 GPUs: 4.296 / 4.483 ms); meta-genai-roce-24k's fabric says it has no planes."""
    (tmp_path / "roceish.yaml").write_text("extends: meta-genai-ib-24k\nnetwork: {kind: roce}\n")
    roce = Cluster.resolve(str(tmp_path / "roceish.yaml"))
    assert roce.fabric.ecmp_planed[1:] == (True, True)
    assert Cluster.resolve("meta-genai-roce-24k").fabric.ecmp_planed == (False, False, False)
    assert send_recv_seconds(roce.fabric, SIZE, 2048) == pytest.approx(4.296e-3, abs=1e-6)
    assert send_recv_seconds(roce.fabric, SIZE, 4096) == pytest.approx(4.483e-3, abs=1e-6)
