"""hI64 mutation wave on hO63's demand limits (`limits.peak_demand_at_most`): each limit's own rule, as its docstring
states it, checked against the models it is stated from: MAX_VIDEO_STREAMS is ~7x what MAX_ACCELERATORS MSVPs hold
at the least input they take (`video --device msvp --input 144p1 --quality standard`), so every demand the largest
fleet could serve passes and one 10x beyond it is refused, by name; and hO63's `fields_read.spec_words`, which renames
CLI options (click's tokens) only; and `yaml_text._json_int`'s digit count, Python's own."""

from __future__ import annotations

import pytest

from infraplan.catalog.yaml_text import safe_load_json
from infraplan.errors import InputError
from infraplan.limits import MAX_ACCELERATORS, peak_demand_at_most
from infraplan.planning.fields_read import spec_words
from infraplan.planning.scenario_spec import ServiceSpec
from infraplan.video.transcode import estimate_video


def test_the_video_limit_is_within_ten_times_what_the_largest_fleet_serves() -> None:
    per = estimate_video("msvp", "144p1", None, "h264", "standard", baseline="none").streams_per_device
    most = MAX_ACCELERATORS * per
    assert peak_demand_at_most("ingest", "video", most, "daily_hours / 24 x peak_to_average") == most
    with pytest.raises(InputError, match=r"service 'ingest': .* \(infraplan\.limits\.MAX_VIDEO_STREAMS\)"):
        peak_demand_at_most("ingest", "video", 10 * most, "daily_hours / 24 x peak_to_average")


@pytest.mark.parametrize("kind", ["recsys", "video"])
def test_a_demand_that_is_not_a_number_is_refused(kind: str) -> None:
    """"nan too" (its docstring): nan compares false both ways, so only `not peak <= limit` refuses it."""
    with pytest.raises(InputError, match="MAX_"):
        peak_demand_at_most("s", kind, float("nan"), "qps")


def test_spec_words_renames_options_not_text_inside_a_word() -> None:
    """`spec_words` renames a CLI option, which click reads as a token of its own (`--ladder`), not the same letters
    inside a quoted name ('clip--ladder.mp4', '---ladder'): those are the user's text, kept as given."""
    svc = ServiceSpec.model_validate({"name": "ingest", "kind": "video", "input": "1080p30", "daily_hours": 1000})
    line = "no file 'clip--ladder.mp4' (---ladder); --ladder 9: a 1080p input has 6 rungs"
    assert spec_words(line, svc) == "no file 'clip--ladder.mp4' (---ladder); ladder 9: a 1080p input has 6 rungs"


def test_a_negative_integer_python_reads_stays_an_integer() -> None:
    """hO63's `yaml_text._json_int`: an integer past Python's int-from-text limit is read as a float; the limit counts
    digits, not the sign (CPython: int('-' + 4,300 digits) reads, 4,301 digits do not), so a negative integer of
    4,300 digits is Python's int, as `json.loads` reads it."""
    digits = "-" + "1" * 4300
    got = safe_load_json('{"a": ' + digits + "}", long_ints_as_floats=True)["a"]
    assert type(got) is int and got == int(digits)
