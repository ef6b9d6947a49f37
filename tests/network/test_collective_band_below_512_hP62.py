"""The small-message collective band below the smallest row its check measured (hP62; hI62: a 1 B all-reduce carried
the band checked from 512 B, said nowhere): kept, its basis saying it is carried down unchecked, on a line whose time
is flat there (`network.collective_band.SMALLEST_CHECKED_BYTES`)."""

from __future__ import annotations

import pytest

from infraplan.cluster.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective

SAID = "this message is below the smallest row checked (512 B"


@pytest.mark.parametrize("size", [1, 64, 511])
def test_below_512_bytes_the_band_is_carried_and_said(size: int) -> None:
    cluster = Cluster.resolve("dgx-h100-superpod")
    tiny, checked = (estimate_collective("all-reduce", cluster, 8, b) for b in (size, 512))
    assert tiny.error_band == checked.error_band and tiny.error_band is not None
    assert SAID in tiny.error_band_basis and "ASSUMPTION" in tiny.error_band_basis
    assert SAID not in checked.error_band_basis
    assert tiny.time_s == pytest.approx(checked.time_s, rel=1e-3)  # (the premise: the line's time is flat there)


def test_no_band_stays_no_band_below_512_bytes() -> None:
    """Beyond the line's checked ranks (72 GB200 ranks) there is none at 1 B, as at 4 KiB."""
    cluster = Cluster.resolve("gb200-nvl72")
    assert estimate_collective("all-reduce", cluster, 72, 1).error_band is None
