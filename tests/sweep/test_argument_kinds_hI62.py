"""A sweep spec's values of a kind their argument does not take are refused in one line before anything runs, and
`memory_margin` a value that is no number (hI62). Before, each point of the sweep failed with a Python error in its
`error` column: `stack: 3` "TypeError: argument of type 'int' is not iterable", `model: 3` "AttributeError: 'int'
object has no attribute 'name'", `seq_len: .nan` "ValueError: cannot convert float NaN to integer", search's `top:
2.5` "TypeError: Partition index must be integer", collective's `bytes: [1]` "TypeError: float() argument must be
...", `memory_margin: '0.1'` "TypeError: '<=' not supported ..."; `memory_margin: false` ran at 0 and
`sequence_parallel: 'yes'` ran as true. A hypothesis property draws YAML values for every plainly typed argument of
four registered functions: each is refused in one line naming it, or the point's error (if any) is an input error's
line, never a Python one."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraplan.errors import InputError
from infraplan.sweep.functions import _KIND_WORDS, check_argument_kinds, resolve_callable, run_batch
from infraplan.sweep.runner import run_sweep

FIXED: dict[str, Any] = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 8, "seq_len": 2048,
                         "global_batch": 16}


@pytest.mark.parametrize("name, fixed, axis", [
    ("stack", {"stack": 3}, {"micro_batch": [1]}),
    ("model", {"model": ["llama3-8b"]}, {"micro_batch": [1]}),
    ("location", {"tokens": "1B", "location": 3}, {"micro_batch": [1]}),
    ("costs", {"tokens": "1B", "costs": True}, {"micro_batch": [1]}),
    ("system", {}, {"system": {"range": {"start": 1, "stop": 2}}}),
    ("optimizer", {}, {"optimizer": [3, 4]}),
    ("seq_len", {"seq_len": float("nan")}, {"micro_batch": [1]}),
    ("micro_batch", {}, {"micro_batch": [1.5, 2.5]}),
    ("sequence_parallel", {"sequence_parallel": "yes"}, {"micro_batch": [1]}),
    ("gpus", {}, {"gpus": ["8", "16"]})])
def test_a_value_of_the_wrong_kind_is_refused_before_the_sweep(tmp_path: Path, name: str, fixed: dict[str, Any],
                                                               axis: dict[str, Any]) -> None:
    spec = {"function": "train", "fixed": {**{k: v for k, v in FIXED.items() if k not in axis}, **fixed},
            "axes": axis}
    with pytest.raises(InputError) as info:
        run_sweep(spec, tmp_path / "out", progress=False)
    line = str(info.value)
    assert line.startswith(f"sweep argument {name!r} takes ") and "\n" not in line, line
    assert not (tmp_path / "out").exists()  # nothing written


def test_values_of_the_right_kind_still_run(tmp_path: Path) -> None:
    """Text, flags, and whole numbers as a `log` axis gives them (8.0, 16)."""
    fixed = {k: v for k, v in FIXED.items() if k != "gpus"}
    spec = {"function": "train", "fixed": {**fixed, "stack": "nemo-26.04", "sequence_parallel": True},
            "axes": {"optimizer": ["adam", "muon"], "gpus": {"log": {"start": 8, "stop": 16, "num": 2}}}}
    assert run_sweep(spec, tmp_path / "out", progress=False).points_failed == 0


def test_a_whole_number_a_log_axis_gives_as_a_float_is_passed_as_an_int(tmp_path: Path) -> None:
    """`pp: {log: {start: 2, stop: 4, num: 2}}` gives 2.0 and 4: a point at pp 4.0 failed with "TypeError: 'float'
    object cannot be interpreted as an integer" (hI62); now priced as pp 4."""
    point = {**FIXED, "gpus": 32}
    rows = run_batch("train", [("a", {**point, "pp": 4.0}), ("b", {**point, "pp": 4})], 0)
    alone = run_batch("train", [("a", {**point, "pp": 4.0})], 0)[0]
    assert rows[0]["error"] is rows[1]["error"] is alone["error"] is None
    assert rows[0]["step_time_s"] == rows[1]["step_time_s"] == alone["step_time_s"]
    spec = {"function": "train", "fixed": point, "axes": {"pp": {"log": {"start": 2, "stop": 4, "num": 2}}}}
    assert run_sweep(spec, tmp_path / "out", progress=False).points_failed == 0


def test_a_run_option_given_null_is_no_option() -> None:
    """`costs: null` (any run option null) is the option left out, as on the CLI: every point failed with "TypeError:
    estimate_training() got an unexpected keyword argument 'costs'" (hI62)."""
    nulls = {"costs": None, "location": None, "tokens": None}
    plain, nulled = run_batch("train", [("a", FIXED), ("b", {**FIXED, **nulls})], 0)
    alone = run_batch("train", [("b", {**FIXED, **nulls})], 0)[0]
    assert plain["error"] is nulled["error"] is alone["error"] is None
    assert nulled["step_time_s"] == plain["step_time_s"] == alone["step_time_s"]


@pytest.mark.parametrize("margin", ["0.1", False, [0.1]])
def test_a_memory_margin_that_is_no_number_is_its_one_line(margin: Any) -> None:
    row = run_batch("train", [("a", {**FIXED, "memory_margin": margin})], 0)[0]
    assert row["error"] is not None and row["error"].startswith("InputError: --memory-margin is a share"), row["error"]




def _input_errors() -> set[str]:
    """InputError's name and every subclass's (UnknownSystemError, ...), as a row's error line starts."""
    found, todo = set(), [InputError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


BASES: dict[str, dict[str, Any]] = {
    "train": FIXED,
    "collective": {"op": "all-reduce", "system": "dgx-h100-superpod", "gpus": 16, "bytes": "1MiB"},
    "facility": {"system": "dgx-h100-superpod"},
    "campus": {"power": "10MW", "accelerator": "h100-sxm"},
}
YAML_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
                        st.text(max_size=12), st.lists(st.integers(0, 9), max_size=2),
                        st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 9), max_size=1))


def _plain(function: str) -> list[str]:
    """The arguments whose annotation is a plain union of str / int / float / bool / None (and classes)."""
    return sorted(n for n, p in inspect.signature(resolve_callable(function)).parameters.items()
                  if isinstance(p.annotation, str) and {m.strip() for m in p.annotation.split("|")} & set(_KIND_WORDS)
                  and "[" not in p.annotation and n not in ("progress", "seed"))


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_yaml_value_is_refused_in_one_line_or_priced(data: st.DataObject) -> None:
    function = data.draw(st.sampled_from(sorted(BASES)), label="function")
    argument = data.draw(st.sampled_from(_plain(function)), label="argument")
    value = data.draw(YAML_VALUES, label="value")
    point = {**BASES[function], argument: value}
    try:
        check_argument_kinds(function, {k: [v] for k, v in point.items()})
    except InputError as exc:
        assert str(exc).startswith(f"sweep argument {argument!r} takes ") and "\n" not in str(exc)
        return
    error = run_batch(function, [("a", point)], 0)[0]["error"]
    assert error is None or error.split(":")[0] in _input_errors(), error
