"""Mutants of hG60's YAML reader without base-60 numbers (hM, session 60): every other plain scalar reads as
PyYAML's own YAML 1.1 resolver reads it (signed ints, exponent floats, infinities), and the pure-Python loader (a
PyYAML built without libyaml, and the reader of malformed text) resolves as the libyaml one does."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import yaml

from infraplan.catalog.yaml_text import safe_load_yaml

# plain scalars that are not base-60: each must read as YAML 1.1 (PyYAML's `yaml.safe_load`) reads it
NOT_BASE_60 = ["7", "-3", "+7", "0", "017", "-017", "0b101", "-0x1F", "1_000", "-1_000", "1.5", "-1.5", "+2.5",
               "1.5e+3", "-2.5E-2", "1.e+1", ".5", "-.inf", "+.inf", ".Inf", "yes", "null", "~", "2026-01-01"]
# exponent forms YAML 1.1 leaves as text and YAML 1.2's core schema reads as floats: read as 1.2 does (hL60)
EXPONENT_ONLY_IN_1_2 = {"1e3": 1000.0, "2.5e9": 2.5e9, ".5e1": 5.0, "-1E2": -100.0}
BASE_60 = ["1:7", "7:1", "-1:30", "1:30:00", "190:20:30.15", "+1:7"]


@pytest.mark.parametrize("token", NOT_BASE_60)
def test_every_other_scalar_reads_as_yaml_1_1_reads_it(token: str) -> None:
    ours, theirs = safe_load_yaml(f"a: {token}\n")["a"], yaml.safe_load(f"a: {token}\n")["a"]
    assert type(ours) is type(theirs) and ours == theirs


@pytest.mark.parametrize("token", EXPONENT_ONLY_IN_1_2)
def test_an_exponent_without_a_dot_or_sign_reads_as_yaml_1_2_reads_it(token: str) -> None:
    assert isinstance(yaml.safe_load(f"a: {token}\n")["a"], str)  # YAML 1.1's reading
    value = safe_load_yaml(f"a: {token}\n")["a"]
    assert isinstance(value, float) and value == EXPONENT_ONLY_IN_1_2[token]


def test_nan_stays_a_float() -> None:
    value = safe_load_yaml("a: .nan\n")["a"]
    assert isinstance(value, float) and math.isnan(value)


@pytest.mark.parametrize("token", BASE_60)
def test_a_base_60_scalar_stays_the_text_written(token: str) -> None:
    assert isinstance(yaml.safe_load(f"a: {token}\n")["a"], int | float)  # what YAML 1.1 makes of it
    assert safe_load_yaml(f"a: {token}\n")["a"] == token


def test_the_pure_python_loader_reads_the_same() -> None:
    """A PyYAML without libyaml (`yaml.CSafeLoader` absent) takes the pure-Python loader: no base-60 either."""
    text = "a: 1:7\\nb: -3\\nc: 1.5e+3\\nd: 1:30:00\\n"
    code = ("import json, yaml\n"
            "del yaml.CSafeLoader\n"
            "from infraplan.catalog.yaml_text import safe_load_yaml\n"
            f"print(json.dumps(safe_load_yaml('{text}')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"a": "1:7", "b": -3, "c": 1500.0, "d": "1:30:00"}
