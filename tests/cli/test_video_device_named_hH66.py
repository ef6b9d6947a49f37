"""A video transcoder given where a system or accelerator is asked is named as one, with the command it runs in.

hH66's walk: `recsys dlrm-low --accelerator msvp` said "unknown accelerator 'msvp'; known: ..." (22 parts), `serve
--system msvp` "unknown system or accelerator 'msvp'; known: ...", `facility` / `campus --accelerator msvp` "unknown
accelerator", while msvp is a catalog preset (`infraplan catalog video-devices`) and fleet-mix says "msvp is a video
transcoder" (planning/pool_capacity). One line (`catalog.inference_loader.video_device_line`), exit 2, everywhere.
"""

from __future__ import annotations

import pytest

from infraplan.cli import main

LINE = ("msvp is a video transcoder (`infraplan catalog video-devices`), not {}: `infraplan video --device msvp` "
        "prices its transcoding; fleet-mix and plan place it in a video service's pool")


@pytest.mark.parametrize(("args", "taken"), [
    (["recsys", "dlrm-low", "--accelerator", "msvp"], "an accelerator"),
    (["facility", "--accelerator", "msvp", "--count", "8"], "an accelerator"),
    (["campus", "--power", "1GW", "--accelerator", "msvp"], "an accelerator"),
    (["serve", "llama3-8b", "--system", "msvp", "--gpus", "8", "--workload", "chat", "--rate", "1"],
     "a system or accelerator"),
    (["serve-plan", "llama3-8b", "--system", "msvp", "--workload", "chat", "--rate", "1"], "a system or accelerator"),
    (["facility", "--system", "msvp"], "a system or accelerator"),
    (["network", "msvp"], "a system or accelerator"),
])
def test_msvp_is_named_a_video_transcoder(capsys: pytest.CaptureFixture[str], args: list[str], taken: str) -> None:
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert LINE.format(taken) in err and "unknown" not in err


def test_the_video_command_still_takes_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["video", "--device", "msvp", "--input", "1080p30", "--json"]) == 0
    assert '"streams_per_device"' in capsys.readouterr().out
