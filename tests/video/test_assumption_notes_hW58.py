"""hW58 (session 48): a video answer says what it assumes (video/notes.py): each ASSUMPTION figure it reads (the
video device file's, the software encoders', the CPU's host share, the ladder), an input beyond a video ASIC's
published modes, the comparison's basis and the published ratio beside the model's with what explains the gap."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.catalog.inference_loader import load_ladder, load_software_encoders, load_video_device
from infraplan.cli import main
from infraplan.video.transcode import estimate_video

JOB = ("1080p30", 4, "vp9", "high")  # hU62's question: MSVP 1080p30 x4 VP9 at 250,000 h/day


def _note(notes: list[str], start: str) -> str:
    found = [n for n in notes if n.startswith(start)]
    assert len(found) == 1, notes
    return found[0]


def test_msvp_names_each_assumed_figure_it_reads_and_not_the_one_it_does_not() -> None:
    r = estimate_video("msvp", *JOB, daily_hours=250_000)
    own = _note(r.notes, "ASSUMPTIONS of msvp")
    dev = load_video_device("msvp")
    for field, why in dev.assumptions.items():
        # fleet-mix's and plan's figures, not video's (hF56: the host's height racks a pool's hosts)
        assert (why in own) == (field not in ("modules_per_host", "host_rack_units")), field
    # the high mode's 15 fps of the 3840x2160 + 2560x1440 + 1920x1080 + 1280x720 + 854x480 job, by hand
    assert "230.8 Mpixel/s of output" in own  # 15 x (8294400 + 3686400 + 2073600 + 921600 + 409920) = 230.78 M
    assert "host share 40 W per module" in own and "not binding here" in own  # 1080p30: the encoder binds
    ladder = _note(r.notes, "ASSUMPTION (catalog/video/ladder.yaml)")
    assert "1080p, 720p, 480p, 360p" in ladder and load_ladder().assumptions["rung_heights"] in ladder


def test_the_cpu_side_names_its_per_core_rates_with_their_share_of_the_core_time_and_its_host_share() -> None:
    for answer in (estimate_video("msvp", *JOB), estimate_video("xeon-8480", *JOB)):  # baseline or device
        rates = _note(answer.notes, "ASSUMPTIONS of catalog/video/software-encoders.yaml on xeon-8480's 56 cores")
        for why in load_software_encoders().assumptions.values():
            assert why in rates
        # by hand: out 109.0656 Mpixel/s / 0.4 M = 272.664 core-s; decode 62.208 / 400 = 0.1555; scaling
        # (109.0656 - 62.208) / 300 = 0.1562: encode 99.886 % of the core time
        assert "libvpx-vp9 speed 2, row-mt encodes 0.4 Mpixel/s per core (99.9% of the core time here)" in rates
        host = _note(answer.notes, "host share 150 W per xeon-8480 socket")
        assert "ASSUMPTION" in host


def test_the_comparison_says_its_basis_and_sets_the_published_ratio_beside_the_models() -> None:
    vp9 = estimate_video("msvp", *JOB)
    b = vp9.baseline
    assert b is not None and b.published_ratio == 50
    note = _note(vp9.notes, "compared per platform watt")
    assert f"msvp {b.perf_per_w_ratio:.3g}x xeon-8480" in note and "Published: ~50x" in note
    assert f"{b.perf_per_w_ratio / 50:.2f}x it per platform watt" in note
    assert f"{b.streams_per_device_ratio / 50:.2f}x per device" in note
    # "not the codec": the note's H.264 ratio, from the CPU's core time per codec, is what a full H.264 run gives
    h264 = estimate_video("msvp", JOB[0], JOB[1], "h264", "high").baseline
    assert h264 is not None
    assert f"h264 on the same job is {h264.perf_per_w_ratio / 9:.2f}x its ~9x ({h264.perf_per_w_ratio:.3g}x)" in note
    assert "Not the job" in note  # the encode dominates the CPU's core time (previous test)


def test_the_standard_mode_says_no_ratio_is_published_for_it() -> None:
    note = _note(estimate_video("msvp", *JOB[:3], "standard").notes, "compared per platform watt")
    assert "no published ratio for the standard mode" in note and "Published" not in note


@pytest.mark.parametrize(("video", "rungs", "outside"), [
    ("4320p240", 1, True), ("2160p60", 5, False), ("2160p61", 1, True), ("4096x2160p30", 1, True),
    ("1080p120", 1, True), ("1080p60", 1, False), ("2160p30", 6, True)])
def test_a_job_beyond_the_published_modes_is_answered_with_a_note(video: str, rungs: int, outside: bool) -> None:
    """MSVP's source gives throughput figures (one 4K input, five outputs, 15 fps high / 60 fps standard), no hard
    limit: answered, and noted."""
    notes = estimate_video("msvp", video, rungs, baseline="none").notes
    found = [n for n in notes if n.startswith("outside msvp's published modes")]
    assert bool(found) == outside, notes
    if video == "4320p240":
        assert "7680x4320 input is above its 3840x2160" in found[0] and "240 fps is above its 60 fps" in found[0]
    if rungs == 6:
        assert "6 outputs are above its 5" in found[0]
    cpu = estimate_video("xeon-8480", video, rungs, baseline="none").notes  # software encoders publish no modes
    assert not any("published modes" in n for n in cpu)


def test_under_one_stream_per_device_the_answer_says_it_spreads_a_stream() -> None:
    quarter = estimate_video("msvp", "2160p60", 5, baseline="none")  # 15 / 60 fps of the reference job
    assert quarter.streams_per_device == pytest.approx(0.25)
    assert any(n.startswith("msvp transcodes this job at 0.25x real time") for n in quarter.notes)
    assert not any("real time" in n for n in estimate_video("msvp", "1080p30", 5, baseline="none").notes)


def _file(tmp_path: Path, capsys: pytest.CaptureFixture[str], **changes: object) -> str:
    data = cli_json(capsys, "catalog video-devices msvp") | changes
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_the_notes_follow_the_device_files_assumptions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    measured = cli_json(capsys, ["video", "--device", _file(tmp_path, capsys, assumptions={}), "--baseline", "none"])
    assert not any(n.startswith("ASSUMPTIONS of") for n in measured["notes"])
    assert any(n.startswith("ASSUMPTION (catalog/video/ladder.yaml)") for n in measured["notes"])
    typo = _file(tmp_path, capsys, assumptions={"power": "guessed"})
    code = main(["video", "--device", typo])
    err = capsys.readouterr().err
    assert code == 2 and "assumptions names no field of this file: power" in err and len(err.strip().splitlines()) == 1
