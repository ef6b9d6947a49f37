"""hI63: one reading of a video input's text on the CLI and the web, and no traceback on a very long number.

Found: `video --input 999...9p60` (5,000 digits) ended in Python's "Exceeds the limit (4300 digits) for integer
string conversion" traceback (hH63's property drew at most 6 digits), and its refusal of other garbage echoed the
whole text; the web's VideoRequest refused three inputs the CLI reads (1920x1080p30, 1080p at its 30 fps,
2160p59.94: "invalid input: cannot read ..."), so one question had two answers. Now both read
`video.transcode.INPUT_TEXT`, a number has at most 9 digits, and a refusal shows at most 40 characters of the text.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.cli.conftest import cli_json

from infraplan.catalog.inference_loader import load_ladder
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.video.transcode import parse_input
from infraplan.web.app import create_app
from infraplan.web.requests import VideoRequest

LONG = ["9" * 5000 + "p60", "1" * 5000 + "x1080p30", "1080p" + "9" * 5000, "1080p30." + "5" * 5000]


@pytest.mark.parametrize("text", LONG)
def test_a_very_long_number_is_one_short_refusal(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with pytest.raises(InputError, match="video input") as caught:
        parse_input(text, load_ladder())
    assert len(str(caught.value)) < 160
    capsys.readouterr()
    code = main(["video", "--device", "msvp", "--input", text])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and len(err) < 200, err[:300]


@pytest.mark.parametrize("text", ["1920x1080p30", "1080p", "2160p59.94", "1080x1920p30"])
def test_the_web_reads_every_input_the_cli_reads_to_the_same_answer(capsys: pytest.CaptureFixture[str],
                                                                     text: str) -> None:
    cli = cli_json(capsys, ["video", "--device", "msvp", "--input", text])
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        web = client.post("/api/video", json={"device": "msvp", "input": text})
    assert web.status_code == 200, web.text
    for key in ("input", "rungs_px", "streams_per_device", "watts_per_stream", "baseline"):
        assert web.json()[key] == cli[key], key


NUMBER = st.text("0123456789", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(alphabet="0123456789xp. -", max_size=16),
    st.builds(lambda w, h, f: f"{w + 'x' if w else ''}{h}p{f or ''}", st.one_of(st.none(), NUMBER), NUMBER,
              st.one_of(st.none(), NUMBER, st.builds(lambda a, b: f"{a}.{b}", NUMBER, NUMBER)))))
def test_the_web_request_takes_a_text_exactly_when_the_cli_reads_it(text: str) -> None:
    """Readable (a size, or the one range refusal) on the CLI iff the web's request model takes it: none refused
    as unreadable on one side only."""
    try:
        parse_input(text, load_ladder())
        readable = True
    except InputError as exc:
        readable = "out of range" in str(exc)
    try:
        VideoRequest.model_validate({"device": "msvp", "input": text})
        taken = True
    except ValidationError:
        taken = False
    assert readable == taken, text
