"""A video ASIC's host share in its notes where a fleet pool states its own (hM70 mutation wave on hX67's
`asic_notes(pool_host=...)`: the device file's host_power_w reason kept beside the pool's line survived every test).
The rule (`asic_notes`): the pool's `host_power_w` is said on a line of its own, in place of the file's ASSUMPTION
figure (msvp.yaml: 40 W, "no MSVP host is published"); without a pool figure the file's is the one in force."""

from __future__ import annotations

from infraplan.video.transcode import estimate_video

FILE_REASON = "no MSVP host is published"


def _notes(host_power_w: float | None) -> list[str]:
    return estimate_video("msvp", "1080p30", 5, "h264", "high", baseline="none", host_power_w=host_power_w).notes


def test_the_pools_host_share_replaces_the_files():
    notes = _notes(25.0)
    assert not any(FILE_REASON in n for n in notes), notes
    assert notes[1] == "host share 25 W per msvp module: the pool's host_power_w (the device file's 40 W not used)"
    assert notes[0].startswith("ASSUMPTIONS of msvp")  # the file's other figures first, then the pool's line


def test_without_a_pool_figure_the_files_is_said():
    notes = _notes(None)
    assert sum(f"host share 40 W per module [{FILE_REASON}" in n for n in notes) == 1
    assert not any("the pool's host_power_w" in n for n in notes)
