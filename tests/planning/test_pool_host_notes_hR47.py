"""hR47 (session 45 review): fleet-mix's note of a pool's ASSUMED host figures (`device_money.pool_generic_note`,
hH47). No test reached the host link's clause (MTIA 450's 64 GB/s, which caps its dlrm-high QPS, could be dropped
from the answer), or a pool whose own `host_power_w` replaces an ASSUMED share: then the share is the user's, not
the file's assumption, and only the link is (one figure: "is an ASSUMPTION", no "replaces the share"); an MSVP pool
with its own host share is not labelled an assumption either."""

from __future__ import annotations

from infraplan.planning.device_money import pool_generic_note


def _note(device: str, host_power_w: float | None) -> str:
    return pool_generic_note("p", device, host_power_w) or ""


def test_an_assumed_share_and_link_are_both_named() -> None:
    note = _note("mtia-400", None)
    assert "host share 300 W per device (host_source) and host link 64 GB/s (host_link_source) are ASSUMPTIONS" in note
    assert "a pool's host_power_w replaces the share" in note


def test_a_pools_own_share_leaves_the_assumed_link_alone() -> None:
    note = _note("mtia-400", 120.0)
    assert "host link 64 GB/s (host_link_source) is an ASSUMPTION of its file" in note
    assert "host share" not in note and "replaces the share" not in note


def test_a_sourced_part_has_no_note_and_a_video_pools_own_share_is_not_assumed() -> None:
    assert pool_generic_note("p", "h100-sxm", None) is None
    assert "ASSUMPTIONS" in _note("msvp", None)
    own = _note("msvp", 30.0)
    assert "30 W of host per module (the pool's host_power_w)" in own and "ASSUMPTION" not in own
