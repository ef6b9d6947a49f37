"""The sweep spec: axes (lists, ranges, log ranges; product and zip), validation, point identity."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.sweep.spec import load_spec, point_id


def test_product_and_zip_groups_combine_as_a_product() -> None:
    spec = load_spec({"function": "train", "fixed": {"model": "m"},
                      "axes": [{"product": {"a": [1, 2], "b": ["x", "y", "z"]}},
                               {"zip": {"tp": [8, 4], "pp": [1, 2]}}]})
    points = list(spec.points())
    assert spec.size() == len(points) == 2 * 3 * 2
    assert points[0] == {"model": "m", "a": 1, "b": "x", "tp": 8, "pp": 1}
    assert {(p["tp"], p["pp"]) for p in points} == {(8, 1), (4, 2)}  # zipped, never (8, 2)


def test_ranges_and_log_ranges() -> None:
    spec = load_spec({"function": "train", "axes": {
        "r": {"range": {"start": 1, "stop": 7, "step": 3}},
        "f": {"range": {"start": 0.5, "stop": 1.0, "step": 0.25}},
        "g": {"log": {"start": 512, "stop": 8192, "factor": 2}},
        "n": {"log": {"start": 1e8, "stop": 1e9, "num": 3}},
    }})
    columns = [group.columns() for group in spec.axes][0]
    assert columns[0] == [1, 4, 7] and all(isinstance(v, int) for v in columns[0])
    assert columns[1] == [0.5, 0.75, 1.0]
    assert columns[2] == [512, 1024, 2048, 4096, 8192]
    assert columns[3][0] == 1e8 and columns[3][-1] == 1e9 and columns[3][1] == pytest.approx(10**8.5)


@pytest.mark.parametrize("bad, words", [
    ({"function": "train", "axes": {"a": [1]}, "typo": 1}, "typo"),
    ({"function": "train", "axes": [{"zip": {"a": [1, 2], "b": [1]}}]}, "equal lengths"),
    ({"function": "train", "fixed": {"a": 1}, "axes": {"a": [1]}}, "twice"),
    ({"function": "train", "axes": {"a": {"range": {"start": 5, "stop": 1}}}}, "empty"),
    ({"function": "train", "axes": {"a": {"log": {"start": 1, "stop": 8, "factor": 2, "num": 3}}}}, "exactly one"),
    ({"function": "train", "axes": {"a": {"log": {"start": 1, "stop": 8, "factor": 1}}}}, "factor"),
    ({"function": "train", "axes": {"a": {"range": {"start": 0, "stop": 1e12}}}}, "points"),
])
def test_bad_specs_are_one_line_input_errors(bad: dict, words: str) -> None:
    with pytest.raises(InputError) as info:
        load_spec(bad)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_a_spec_file_that_is_not_a_mapping_is_refused(tmp_path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n")
    with pytest.raises(InputError, match="mapping"):
        load_spec(path)
    with pytest.raises(InputError, match="cannot read"):
        load_spec(tmp_path / "missing.yaml")


def test_point_identity_is_the_content_not_the_order() -> None:
    assert point_id("train", {"a": 1, "b": "x"}, 0) == point_id("train", {"b": "x", "a": 1}, 0)
    assert point_id("train", {"a": 1}, 0) != point_id("train", {"a": 1}, 1)
    assert point_id("train", {"a": 1}, 0) != point_id("serve", {"a": 1}, 0)
