"""Past the measured in-domain curve's last row (512 MiB) the bytes beyond it stream at the large-message rate
(`nvlink_all_reduce.STREAMED_TAIL`, hC52). Held at the last row's 0.938, train's and serve's priced 8 GiB
all-reduces were 6.8 % (8x A100 ring) and 6.2 % (8x H100 NVLS) below the network validation cases, and so was
`collective`'s answer once it became the priced time."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network import nvlink_all_reduce as nv
from infraplan.network.collective_schedules import estimate_collective
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS

LAST = 512.0 * 2**20


def test_the_efficiency_past_the_last_row_streams_the_rest_at_the_large_message_rate() -> None:
    held = nv.measured_efficiency_xp(FLOAT_OPS, LAST, 8.0)
    assert held == pytest.approx(0.938, abs=0.001)
    for size in (2.0**30, 2.0**33):
        by_hand = size / (LAST / held + (size - LAST))
        one = nv.measured_efficiency_xp(FLOAT_OPS, size, 8.0)
        many = float(nv.measured_efficiency_xp(NUMPY_OPS, np.array([size]), np.array([8.0]))[0])
        assert one == many == pytest.approx(by_hand, rel=1e-12)  # the float path is the array path's bits
    assert nv.measured_efficiency_xp(FLOAT_OPS, 2.0**33, 8.0) > 0.995


@pytest.mark.parametrize(("system", "algorithm", "published"), [("dgx-a100-superpod", "ring", 232.5),
                                                                ("dgx-h100-superpod", "auto", 480.0)])
def test_8_gib_in_one_node_is_priced_near_the_measured_busbw(system: str, algorithm: str, published: float,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """network.yaml's 8x A100 ring (nccl-tests #175) and 8x H100 NVLS (GTC 2024 S62129) cases, on the answer."""
    def busbw() -> float:
        answer = estimate_collective("all-reduce", Cluster.resolve(system), 8, 2.0**33, algorithm=algorithm)
        return answer.busbw_bytes_per_s / 1e9
    assert busbw() == pytest.approx(published, rel=0.015)
    monkeypatch.setattr(nv, "STREAMED_TAIL", False)
    assert busbw() < 0.94 * published  # held at the last row: 216.7 and 450.4 GB/s
