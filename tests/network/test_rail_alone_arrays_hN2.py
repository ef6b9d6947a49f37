"""hN70's rail rule for a group alone holds for a column of groups as for one (hN2, session 70).

`fabric.uplink_occupancy` priced one group alone on a tier split by rail (`RAIL_ALONE`) at its busiest rail's share
of that rail's GPUs only where k and the stride were scalars; a column of group sizes (the network layer's Python
API, `collective_time` over arrays) fell back to k / domain: hN70's all-to-all of 256 MiB on its 3-tier 24,576-H100
Clos (6.4:1 above the 2,048-GPU pods), spread, at 1,024 / 2,048 / 3,072 / 4,096 GPUs was 6.85 ms each in the column
where each alone is 13.36 / 13.36 / 40.21 / 13.51 ms. The rule is now array-first (`tier_bandwidth.
busiest_rail_shares`); `collective`, the web and a sweep (one group per call) give the same answers, here checked
against each other and the column.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.cli.conftest import cli_json
from tests.network.test_rail_alone_hN70 import CLOS3, MIB_256

from infraplan.cluster import Cluster
from infraplan.network import fabric
from infraplan.network.collective_formulas import collective_time
from infraplan.network.collective_schedules import estimate_collective
from infraplan.sweep import callables
from infraplan.web.app import create_app

SIZES = [1024, 2048, 3072, 4096]


@pytest.fixture(scope="module")
def clos3(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("hN2") / "clos3.yaml"
    path.write_text(CLOS3)
    return str(path)


def _column(cluster: Cluster, kind: str, n: list[float], stride: list[float]) -> np.ndarray:
    fabric._LINK_CACHE.clear()
    alone = replace(cluster.fabric, concurrent_groups=1)  # `collective`'s fabric: one group alone
    return np.asarray(collective_time(alone, kind, MIB_256, np.array(n), np.array(stride)))


def test_a_column_of_groups_is_priced_as_each_alone(clos3: str) -> None:
    cluster = Cluster.resolve(clos3)
    each = [estimate_collective("all-to-all", cluster, n, MIB_256, "spread") for n in SIZES]
    strides = [float(e.stride) for e in each]
    assert strides == [24.0, 12.0, 8.0, 6.0]
    column = _column(cluster, "all_to_all", [float(n) for n in SIZES], strides)
    one = [float(_column(cluster, "all_to_all", [float(n)], [s])[0]) for n, s in zip(SIZES, strides, strict=True)]
    assert column.tolist() == one  # was 6.85 ms each in the column
    assert column.tolist() == [e.time_s for e in each]  # the priced time `collective` answers
    assert column[2] == pytest.approx(40.21e-3, rel=1e-3) and max(column) > 5.0 * 6.86e-3
    for kind in ("all_reduce", "all_gather", "reduce_scatter"):  # the other kinds: the same rule, element-wise
        c = _column(cluster, kind, [float(n) for n in SIZES], strides)
        assert c.tolist() == [float(_column(cluster, kind, [float(n)], [s])[0]) for n, s in zip(SIZES, strides,
                                                                                                  strict=True)]


def test_the_cli_the_web_and_a_sweep_agree(clos3: str, capsys: pytest.CaptureFixture[str]) -> None:
    web = TestClient(create_app())
    upload = {"filename": "clos3.yaml", "text": CLOS3}
    for n in SIZES:
        cli = cli_json(capsys, ["collective", "all-to-all", "--system", clos3, "--gpus", str(n), "--bytes", "256MiB",
                                "--placement", "spread"])
        swept = callables.collective("all-to-all", clos3, n, "256MiB", "spread")
        answer = web.post("/api/collective", json={"op": "all-to-all", "system": upload, "gpus": n,
                                                   "bytes": "256MiB", "placement": "spread"})
        assert answer.status_code == 200, answer.text
        times = {cli["time_s"], swept.time_s, answer.json()["time_s"]}
        assert len(times) == 1 and cli["bottleneck_tier"] == "spine", (n, times)
