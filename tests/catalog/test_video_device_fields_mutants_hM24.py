"""Mutation wave hM24 (session 46) on a video ASIC file's published speed-up and server size (`catalog.video_schemas.
VideoAsic`, hH47): a published ratio is refused without its basis, an encoder for each codec, or a positive value,
and a file without `modules_per_host` buys one module per server (fleet-mix's unit before hH47)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from infraplan.catalog.loader import preset_files
from infraplan.catalog.video_schemas import VideoAsic


def _msvp(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(preset_files("video/devices")["msvp"].read_text())
    data.setdefault("name", "msvp")
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_shipped_file_reads_with_its_ratios() -> None:
    dev = VideoAsic.model_validate(_msvp())
    assert dev.published_speedup == {"h264": 9, "vp9": 50} and dev.modules_per_host == 12


@pytest.mark.parametrize("changes", [
    {"published_speedup_basis": None},  # no basis
    {"published_speedup_basis": "   "},  # a blank one
    {"published_speedup_versus": {"h264": "libx264"}},  # vp9's encoder missing
    {"published_speedup_versus": {"h264": "libx264", "vp9": "libvpx", "av1": "libaom"}},  # an encoder of no ratio
    {"published_speedup": {"h264": 9, "vp9": 0}},  # a ratio of 0
    {"published_speedup": {"h264": -9, "vp9": 50}},
    {"modules_per_host": 0},  # a server holds at least one module
])
def test_an_incomplete_or_impossible_published_speedup_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="published_speedup|modules_per_host"):
        VideoAsic.model_validate(_msvp(**changes))


def test_no_ratio_needs_no_basis_and_one_module_is_a_server_by_default() -> None:
    plain = VideoAsic.model_validate(_msvp(published_speedup={}, published_speedup_versus={},
                                           published_speedup_basis="", modules_per_host=None))
    assert plain.published_speedup == {} and plain.modules_per_host == 1
