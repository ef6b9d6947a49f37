"""Review of session 51's network code (hR, session 52): tests for hand mutants that passed every test before.

* `collective_efficiency`'s kept efficiencies (`_LAST_EFFICIENCY`, `_LAST_ARRAY`) carry
  `simai_nccl_tables.RING_TABLE_STEP_LINKS` in their keys: dropping it from either key passed every test (an answer
  with the switch flipped would be the kept one of the other setting, as hR51 found for the row-consistency caches).
* `collective_band`: a 1 GiB+ all-reduce whose alpha-beta latency is 50-90 % of its time has no band (the 0.5
  threshold raised to 0.9 passed), and a message of exactly 64 KiB is the tables' first row, not below it (the
  bound moved to 32 KiB passed).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network import collective_efficiency, simai_nccl_tables
from infraplan.network.collective_band import LATENCY_BOUND_SHARE, collective_band

SIZE = 2.0**24  # 16 MiB, the SimAI table's first row


def _efficiencies() -> tuple[float, np.ndarray]:
    """A GB200 NVL72 ring over racks (18 members a rack: its steps' mix is not the table's), one group and an
    array of two sizes."""
    fabric = Cluster.resolve("gb200-nvl72-superpod").fabric
    one = float(collective_efficiency.message_efficiency(fabric, SIZE, 128.0, 4.0))
    array = collective_efficiency.message_efficiency(fabric, np.array([SIZE, 4 * SIZE]), np.array([128.0, 128.0]),
                                                     np.array([4.0, 4.0]))
    return one, np.asarray(array)


def test_kept_efficiencies_follow_the_step_links_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    collective_efficiency.forget_float_values()
    on_one, on_array = _efficiencies()
    monkeypatch.setattr(simai_nccl_tables, "RING_TABLE_STEP_LINKS", False)
    kept_one, kept_array = _efficiencies()  # the same inputs straight after: the kept values must not answer
    collective_efficiency.forget_float_values()
    fresh_one, fresh_array = _efficiencies()
    assert fresh_one != on_one and not np.array_equal(fresh_array, on_array)  # the switch moves this group
    assert kept_one == fresh_one
    assert np.array_equal(kept_array, fresh_array)
    monkeypatch.undo()
    collective_efficiency.forget_float_values()


@pytest.mark.parametrize(("share", "band"), [(LATENCY_BOUND_SHARE - 0.01, True), (0.6, False), (0.89, False)])
def test_a_large_all_reduce_past_half_latency_has_no_band(share: float, band: bool) -> None:
    said = collective_band("all-reduce", "analytical", "h100", 2.0**33, True, share)
    assert (said["error_band"] is not None) is band, said
    if not band:
        assert f"({share:.0%} of this one's alpha-beta time is latency" in said["error_band_basis"]


def test_sixty_four_kib_is_the_small_tables_first_row() -> None:
    at = collective_band("all-reduce", "analytical", "h100", 2.0**16, True)
    below = collective_band("all-reduce", "analytical", "h100", 2.0**16 - 1, True)
    # hC55: below the first row no band, said why; hL61: unless NCCL's LL line prices it ("h100" has no table)
    assert at["error_band"] is not None and below["error_band"] is None
    assert "below their first row" not in at["error_band_basis"] and "below 64 KiB" not in at["error_band_basis"]
    assert "under the first row of the small-message tables" in below["error_band_basis"]
    priced = collective_band("all-reduce", "analytical", "h100", 2.0**16 - 1, True, 0.0, 8, "h100-sxm")  # the line
    assert priced["error_band"] == at["error_band"] and "below their first row" in priced["error_band_basis"]
