"""A YAML mapping that gives one key twice is refused in one line naming the file, the key and both lines (hY64,
session 48): PyYAML's SafeConstructor kept the last one silently (hH63: a second `power_w:` won). Every reader goes
through `catalog.yaml_text.safe_load_yaml`, and every shipped YAML file still loads through it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from infraplan.catalog.user_files import parse_text
from infraplan.catalog.yaml_text import DuplicateKeyError, _UniqueKeySafeLoader, safe_load_yaml
from infraplan.cli import main
from infraplan.errors import InputError

REPO = Path(__file__).resolve().parents[2]


def test_a_repeated_key_names_itself_and_both_lines():
    text = "name: a\nnode:\n  nics_per_node: 8\n  host_power_w: 1kW\n  nics_per_node: 4\n"
    with pytest.raises(DuplicateKeyError, match=r"^duplicate key 'nics_per_node' on line 5 \(first on line 3\)$"):
        safe_load_yaml(text)
    with pytest.raises(InputError, match=r"^malformed file sys\.yaml: duplicate key 'name' on line 3 \(first on"):
        parse_text("name: a\nx: 1\nname: b\n", "sys.yaml")


def test_the_pure_python_loader_refuses_it_too():
    """The fallback that re-reads malformed text (for PyYAML's own error wording) holds the same rule."""
    with pytest.raises(DuplicateKeyError, match="duplicate key 'a' on line 2"):
        yaml.load("a: 1\na: 2\n", Loader=_UniqueKeySafeLoader)  # noqa: S506


def test_what_is_not_a_repeat_still_loads():
    """The same key in two mappings, a key written as a number and as a string, and merge keys overridden by the
    mapping's own entries (YAML's `<<`, which PyYAML supports) are not repeats."""
    text = "a: {x: 1}\nb: {x: 2}\n1: int\n'1': str\nbase: &b {p: 1, q: 2}\nd:\n  <<: *b\n  p: 3\n"
    assert safe_load_yaml(text) == {"a": {"x": 1}, "b": {"x": 2}, 1: "int", "1": "str", "base": {"p": 1, "q": 2},
                                    "d": {"p": 3, "q": 2}}


def _shipped_yaml() -> list[Path]:
    package = Path(str(resources.files("infraplan")))
    files = [*package.rglob("*.yaml"), *package.rglob("*.yml"), *(REPO / "examples").rglob("*.yaml")]
    return sorted(f for f in files if "__pycache__" not in f.parts)


def test_every_shipped_yaml_file_loads():
    files = _shipped_yaml()
    assert len(files) > 100  # the catalog, the validation cases and the examples
    for path in files:
        safe_load_yaml(path.read_text(encoding="utf-8"))


def test_a_system_file_with_a_repeated_key_exits_2_in_one_line(tmp_path, capsys):
    preset = resources.files("infraplan.catalog") / "systems" / "dgx-h100-superpod.yaml"
    text = preset.read_text(encoding="utf-8")
    path = tmp_path / "twice.yaml"
    path.write_text(text + "total_accelerators: 64\n")
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("total_accelerators:"))
    assert main(["network", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "twice.yaml" in err
    assert f"duplicate key 'total_accelerators' on line {len(text.splitlines()) + 1} (first on line {first})" in err


def test_a_sweep_spec_with_a_repeated_key_exits_2(tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text("model: llama3-8b\nmodel: llama3-70b\n")
    assert main(["sweep", str(path)]) == 2
    err = capsys.readouterr().err
    assert "duplicate key 'model' on line 2 (first on line 1)" in err and "Traceback" not in err
