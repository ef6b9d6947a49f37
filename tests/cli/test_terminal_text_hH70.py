"""Invisible text shown, never obeyed (hH70, after hX67): a bidi override or isolate (U+202E, U+2066-U+2069, a
"Trojan Source" name that reorders the rest of the line), a zero-width character, a line separator or a file
name's non-UTF-8 byte (a lone surrogate) in a user file's name or a config key is written as its repr escape in the
human output, in an error line and in a warning line; `--json` keeps the string exact. A path argument that is
not UTF-8 is one line and exit 2 (the JSON answer echoing it was a PydanticSerializationError traceback)."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.cli import main
from infraplan.cli.terminal_text import terminal_text

TROJAN = "ms\u202evp\u2066x\u2069\u200b\u2028\ufeff\xad"  # RLO, LRI, PDI, ZWSP, LS, BOM, soft hyphen
INVISIBLE = {"Cf", "Zl", "Zp", "Cs"}


def test_every_format_separator_and_surrogate_character_is_escaped_as_repr_does() -> None:
    # the class against the running Python's Unicode table, all 1,114,112 code points
    text = "".join(map(chr, range(sys.maxunicode + 1)))
    expected = "".join(
        repr(c)[1:-1] if unicodedata.category(c) in INVISIBLE or (unicodedata.category(c) == "Cc"
                                                                  and c not in "\t\n") else c
        for c in text)
    assert terminal_text(text) == expected
    assert terminal_text("\u202eevil") == "\\u202eevil"
    assert terminal_text("µs ≥ 1 × 2 — 3\u00a0W 日本") == "µs ≥ 1 × 2 — 3\u00a0W 日本"  # printable text kept


def _device(tmp_path: Path, capsys: pytest.CaptureFixture[str], **fields: object) -> str:
    data = cli_json(capsys, "catalog video-devices msvp") | fields
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def _raw_invisible(text: str) -> list[str]:
    return sorted({hex(ord(c)) for c in text if unicodedata.category(c) in INVISIBLE})


def test_a_trojan_source_device_name_is_shown_escaped_and_kept_in_json(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = _device(tmp_path, capsys, name=TROJAN)
    assert main(["video", "--device", path, "--input", "1080p30"]) == 0
    out, err = capsys.readouterr()
    assert _raw_invisible(out + err) == [], repr(out[:300])
    assert terminal_text(TROJAN) in out and "\\u202e" in out
    assert cli_json(capsys, ["video", "--device", path, "--input", "1080p30"])["device"] == TROJAN  # exact


def test_a_trojan_source_name_in_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _device(tmp_path, capsys, name=TROJAN, codecs=["vp9"],
                   published_speedup={"vp9": 50},  # hH66: a speed-up only of a codec it encodes
                   published_speedup_versus={"vp9": "libvpx-vp9 speed 2"})
    assert main(["video", "--device", path, "--input", "1080p30", "--codec", "h264"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, repr(err)
    assert _raw_invisible(err) == [] and "\\u202e" in err, repr(err)


def test_an_unknown_config_key_with_bidi_text_is_warned_escaped(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = cli_json(capsys, "catalog models llama3-8b")
    config.pop("source")
    config["evil\u202egnp.exe"] = 1
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    args = ["train", str(path), "--system", "h100-sxm", "--gpus", "8", "--seq-len", "4096", "--global-batch", "8"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert _raw_invisible(out + err) == [] and "evil\\u202egnp.exe" in err, repr(err)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")
def test_a_path_that_is_not_utf8_is_one_line_not_a_traceback(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = os.fsdecode(os.fsencode(tmp_path) + b"/d\xff")  # a Latin-1 folder name: '\udcff' in Python
    try:
        os.mkdir(folder)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses non-UTF-8 names")
    config = cli_json(capsys, "catalog models llama3-8b")
    config.pop("source")
    Path(folder, "config.json").write_text(json.dumps(config))
    args = ["train", f"{folder}/config.json", "--system", "h100-sxm", "--gpus", "8", "--seq-len", "4096",
            "--global-batch", "8", "--json"]
    assert main(args) == 2  # was a PydanticSerializationError traceback: '\udcff' cannot be written as UTF-8
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "not UTF-8" in err, repr(err)
    assert "\\udcff" in err and "\udcff" not in err
