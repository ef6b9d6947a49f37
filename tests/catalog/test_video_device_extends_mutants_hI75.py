"""Mutation wave hI75 on `inference_loader.is_video_device` (hN74): a file is a video device where it declares
`kind: video-asic` or extends a video-device preset (msvp), not wherever it has an `extends` key. `plan`, `scenario`
and `fleet-mix` pools, `device_money` and `pool_capacity` dispatch on it: an accelerator's or a system's what-if read
as a video device would be sized as transcoders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.inference_loader import is_video_device


@pytest.mark.parametrize(("text", "video"), [
    ("extends: msvp\n", True),
    ("name: my-h100\nextends: h100-sxm\n", False),
    ("name: my-pod\nextends: dgx-h100-superpod\n", False),
    ("name: other\nextends: no-such-preset\n", False),
])
def test_only_a_video_presets_what_if_is_a_video_device(tmp_path: Path, text: str, video: bool) -> None:
    path = tmp_path / "device.yaml"
    path.write_text(text)
    assert is_video_device(str(path)) is video
