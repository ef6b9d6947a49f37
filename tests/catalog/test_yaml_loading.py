"""The libyaml-backed loader (`catalog.yaml_text.safe_load_yaml`) reads every shipped YAML file as `yaml.safe_load`
does (but a number with an exponent, `78e12`, which YAML 1.1 leaves a string: a float, as YAML 1.2 reads it, hL60),
and malformed text fails with the pure-Python parser's message."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.user_files import parse_text
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.errors import InputError

PACKAGE = Path(str(resources.files("infraplan")))
SHIPPED_YAML = sorted(p for p in PACKAGE.rglob("*.y*ml") if p.is_file())


def test_shipped_yaml_files_exist() -> None:
    assert len(SHIPPED_YAML) > 20


EXPONENT = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+")


def _yaml_1_2_numbers(data: Any) -> Any:
    """`yaml.safe_load`'s data with its exponent strings read as YAML 1.2 floats (`yaml_text._FLOAT_NO_BASE_60`)."""
    if isinstance(data, dict):
        return {k: _yaml_1_2_numbers(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_yaml_1_2_numbers(v) for v in data]
    return float(data.replace("_", "")) if isinstance(data, str) and EXPONENT.fullmatch(data) else data


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_fast_loader_reads_every_shipped_file_as_safe_load(path: Path) -> None:
    text = path.read_text()
    assert safe_load_yaml(text) == _yaml_1_2_numbers(yaml.safe_load(text))


def test_malformed_yaml_keeps_the_pure_python_message() -> None:
    text = "a: [1, 2\nb: 3\n"
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as got:
        safe_load_yaml(text)
    assert str(got.value) == str(expected.value)
    with pytest.raises(InputError, match="malformed file x.yaml"):
        parse_text(text, "x.yaml")
