"""Hostile inputs on session 48's video surfaces (hH63): a device file's `assumptions` map and the `--input` text.

Bad input is one line and exit code 2. Found: an `assumptions` map of 20,000 unknown keys was refused in one
149 kB line (every name listed), an empty key named nothing ("... no field of this file: "), and a blank reason did
not say which entry; now at most `video_schemas.NAMES_SHOWN` names, an empty one quoted, the blank entry named.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.cli.conftest import cli_json

from infraplan.catalog.inference_loader import load_ladder
from infraplan.catalog.video_schemas import NAMES_SHOWN, VideoAsic
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.video.transcode import parse_input


def _device(tmp_path: Path, capsys: pytest.CaptureFixture[str], assumptions: object) -> str:
    data = cli_json(capsys, "catalog video-devices msvp") | {"assumptions": assumptions}
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _refusal(path: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["video", "--device", path, "--input", "1080p30"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (code, err[:300])
    return err.strip()


def test_a_huge_map_of_unknown_keys_is_one_short_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """20,000 unknown names: NAMES_SHOWN of them (sorted) and the count of the rest (the line was 149 kB)."""
    err = _refusal(_device(tmp_path, capsys, {f"k{i}": "x" for i in range(20_000)}), capsys)
    assert err.endswith(f"assumptions names no field of this file: k0, k1, k10, k100, k1000 and "
                        f"{20_000 - NAMES_SHOWN:,} more"), err
    assert len(err.split("': ", 1)[1]) < 120  # what follows the file's name (the tmp path's length varies)


def test_an_empty_key_and_a_blank_reason_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refusal(_device(tmp_path, capsys, {"": "why"}), capsys)
    assert err.endswith("assumptions names no field of this file: ''"), err  # was "...: " (nothing named)
    err = _refusal(_device(tmp_path, capsys, {"power_w": "  "}), capsys)
    assert err.endswith("each assumptions entry needs its reason (power_w has none)"), err


@pytest.mark.parametrize("value", [5, True, None, ["a"], {"a": "b"}])
def test_a_reason_that_is_not_text_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              value: object) -> None:
    assert "assumptions.power_w" in _refusal(_device(tmp_path, capsys, {"power_w": value}), capsys)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=8))
def test_any_assumptions_map_is_accepted_only_when_every_key_is_a_field_with_a_reason(
        assumptions: dict[str, str]) -> None:
    """The rule as stated, on the shipped file's data: accepted iff every key is a field of the file (or the map
    itself) and every reason has a non-blank character; refused with the rule's line otherwise."""
    from infraplan.catalog.inference_loader import load_video_device

    data = load_video_device("msvp").model_dump() | {"assumptions": assumptions}
    fields = set(VideoAsic.model_fields)
    ok = set(assumptions) <= fields and all(why.strip() for why in assumptions.values())
    try:
        VideoAsic.model_validate(data)
    except ValidationError as exc:
        assert not ok and ("assumptions names no field" in str(exc) or "needs its reason" in str(exc)), exc
    else:
        assert ok, assumptions


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=24), st.from_regex(r"\s*(\d{1,6}x)?\d{1,6}p(\d{1,4}(\.\d{1,3})?)?\s*",
                                                     fullmatch=True)))
def test_any_input_text_is_a_size_within_the_stated_range_or_one_refusal(text: str) -> None:
    """--input: a result is a size within 16..8640 lines (the short side), long side <= 15360 and 0 < fps <= 240 (the
    stated range; either orientation since hF64), else an InputError, never another exception (8K, 1,000 fps, 0 and
    negative sizes, NaN among them)."""
    try:
        width, height, fps = parse_input(text, load_ladder())
    except InputError as exc:
        assert "video input" in str(exc)
        return
    assert 16 <= min(width, height) <= 8640 and max(width, height) <= 15360 and 0 < fps <= 240


@pytest.mark.parametrize("text", ["4320p1000", "2160p0", "0p30", "-1p30", "2160pnan", "1080p-5", "99999999999p30"])
def test_the_modes_beyond_the_range_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="video input"):
        parse_input(text, load_ladder())
