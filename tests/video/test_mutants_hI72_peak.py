"""hI72 mutation wave on hN71's `--peak-to-average` refusal: the factor is refused only where no daily ingest is
given at all (None); the Python API's 0 daily hours is a stated demand of none (hK66), so its fleet is sized, empty,
at the factor given, not refused as if --daily-hours were missing."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.video.transcode import estimate_video


def test_zero_daily_hours_is_a_demand_of_none_not_a_missing_one() -> None:
    fleet = estimate_video("msvp", daily_hours=0.0, peak_to_average=2.0).fleet
    assert fleet is not None and (fleet.devices, fleet.peak_to_average) == (0, 2.0)
    with pytest.raises(InputError, match="add --daily-hours"):
        estimate_video("msvp", peak_to_average=2.0)
