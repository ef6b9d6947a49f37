"""A video device file whose reference job has more outputs than the ladder holds at its input is refused (hU67).

The published rate is of `reference_outputs` outputs, read as the ladder's top rungs at `reference_input_height`
(`Ladder.rungs`); past the ladder's rungs the job was clipped without a word (9 outputs at 2160p read as the 8 rungs
there), so the device's capacity was counted over fewer pixels than its source's job.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.inference_loader import load_ladder, load_video_device
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.video.transcode import estimate_video

MSVP = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "video" / "devices" / "msvp.yaml"


def _device(tmp_path: Path, outputs: int, height: int = 2160) -> str:
    text = MSVP.read_text().replace("reference_outputs: 5", f"reference_outputs: {outputs}")
    path = tmp_path / f"dev{outputs}-{height}.yaml"
    path.write_text(text.replace("reference_input_height: 2160", f"reference_input_height: {height}"))
    return str(path)


def test_a_job_beyond_the_ladder_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rungs = len(load_ladder().rung_heights)  # 8 at 2160p
    assert estimate_video(_device(tmp_path, rungs), "2160p30").streams_per_device > 0  # the whole ladder: taken
    too_many = _device(tmp_path, rungs + 1)
    with pytest.raises(InputError, match=rf"reference_outputs {rungs + 1} is more than the ladder's {rungs} rungs"):
        load_video_device(too_many)
    assert main(["video", "--device", too_many, "--input", "1080p30"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "at most 8 outputs" in err


def test_an_input_that_is_no_rung_counts_itself(tmp_path: Path) -> None:
    """At 1000 lines the job's rungs are 1000p then the 5 rungs below it (`Ladder.rungs`): 6 taken, 7 refused."""
    assert load_video_device(_device(tmp_path, 6, 1000)).reference_outputs == 6
    with pytest.raises(InputError, match=r"6 rungs at or below its reference_input_height 1000 \(1000p, 720p"):
        load_video_device(_device(tmp_path, 7, 1000))
