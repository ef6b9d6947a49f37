"""A video device's published speed-ups are of codecs it encodes; the gap note pairs only codecs the CPU rates have.

hH66's walk: a device file whose `published_speedup` names av1 answered `video --device FILE --codec h264` with
"no software encoder for av1/high" (exit 2): the gap note (`transcode._gap_note`) priced the device's other published
codec on the CPU to say "not the codec", and catalog/video/software-encoders.yaml has no av1 encoder. A file naming
a speed-up for a codec its `codecs` omits was read without a word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.cli import main
from infraplan.video.transcode import estimate_video

MSVP = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "video" / "devices" / "msvp.yaml"


def _device(tmp_path: Path, **update: Any) -> str:
    data = yaml.safe_load(MSVP.read_text())
    data.update(update, name="asic")
    path = tmp_path / "asic.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _compared(device: str) -> str:
    notes = estimate_video(device, "2160p60").notes
    return next(n for n in notes if n.startswith("compared per platform watt"))


def test_a_speedup_of_a_codec_the_device_does_not_encode_is_refused(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = _device(tmp_path, published_speedup={"h264": 9, "av1": 30},
                   published_speedup_versus={"h264": "libx264", "av1": "SVT-AV1"})
    code = main(["video", "--device", path, "--input", "2160p60"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "published_speedup names av1, which codecs (h264, vp9) does not list" in err


def test_an_av1_device_answers_h264_with_the_note_it_can_give(tmp_path: Path) -> None:
    """av1 first among the published codecs: the pair is vp9's, the one the software rates price, as msvp's."""
    path = _device(tmp_path, codecs=["h264", "vp9", "av1"], published_speedup={"av1": 30, "h264": 9, "vp9": 50},
                   published_speedup_versus={"av1": "SVT-AV1", "h264": "libx264", "vp9": "libvpx-vp9 speed 2"})
    assert _compared(path).replace("asic", "msvp") == _compared("msvp")
    assert "Not the codec: vp9 on the same job is 2.06x its ~50x" in _compared(path)


def test_with_no_other_priced_codec_the_note_names_none(tmp_path: Path) -> None:
    path = _device(tmp_path, codecs=["h264", "av1"], published_speedup={"av1": 30, "h264": 9},
                   published_speedup_versus={"av1": "SVT-AV1", "h264": "libx264"})
    note = _compared(path)
    assert "Not the codec" not in note and "~9x per watt" in note
