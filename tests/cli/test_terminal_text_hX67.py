"""A user file's text reaches the terminal shown, never obeyed (hX67, after hH63): a control character in a video
device file's `assumptions` reason or name (ESC starting a clear-screen sequence, NUL, BEL, CR, DEL, an 8-bit
CSI) is written as its repr escape (\\x1b) in the human output and in an error line, while `--json` keeps the
string exact. Before, Rich passed ESC, NUL, DEL and C1 through (and dropped BEL and CR without a word)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.cli import main
from infraplan.cli.terminal_text import terminal_text

HOSTILE = "\x1b[2J\x1b[31mcleared\x07 nul\x00 cr\r del\x7f csi\x9b1m"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _device(tmp_path: Path, capsys: pytest.CaptureFixture[str], **fields: object) -> str:
    data = cli_json(capsys, "catalog video-devices msvp") | fields
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_terminal_text_escapes_each_control_character_as_repr_does() -> None:
    assert terminal_text(HOSTILE) == repr(HOSTILE)[1:-1]  # no quote or backslash in it: repr's escapes alone
    assert terminal_text("a\tb\nc µs ≥ 1") == "a\tb\nc µs ≥ 1"  # tab, newline and printable Unicode kept
    assert not CONTROL.search(terminal_text("".join(map(chr, range(0xA0)))).replace("\t", "").replace("\n", ""))


def test_a_reason_with_escape_sequences_is_shown_escaped(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = _device(tmp_path, capsys, assumptions={"power_w": f"guessed {HOSTILE} here"})
    assert main(["video", "--device", path, "--input", "1080p30"]) == 0
    out, err = capsys.readouterr()
    assert not CONTROL.search(out.replace("\n", "")), repr(out[:400])
    flat = re.sub(r"\s+", "", out)  # the note wraps at the terminal's width
    assert re.sub(r"\s+", "", terminal_text(HOSTILE)) in flat, repr(out[:400])  # every character shown, escaped
    # the JSON answer: the reason exact, as the file gives it
    assert main(["video", "--device", path, "--input", "1080p30", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any(f"guessed {HOSTILE} here" in n for n in notes)


def test_a_device_name_with_escapes_in_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _device(tmp_path, capsys, name=f"msvp{HOSTILE}", codecs=["vp9"],
                   published_speedup={"vp9": 50},  # hH66: a speed-up only of a codec it encodes
                   published_speedup_versus={"vp9": "libvpx-vp9 speed 2"})
    assert main(["video", "--device", path, "--input", "1080p30", "--codec", "h264"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, repr(err)
    assert not CONTROL.search(err.rstrip("\n")) and r"\x1b[2J" in err, repr(err)
