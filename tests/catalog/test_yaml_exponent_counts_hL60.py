"""A count written with an exponent in a user's YAML (hL60): `total_accelerators: 2e3` was the string '2e3' under
YAML 1.1's float pattern (a dot and a signed exponent required) and refused "unable to parse string as an integer",
while `2.0e+3` and JSON's `2e3` were read. YAML 1.2's core schema (Sec. 10.3.2) reads every exponent form as a
float: a whole one is the count, a fractional one is refused in one line naming the field and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import load_system
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.errors import InputError

SHIPPED = Path(__file__).resolve().parents[2] / "src/infraplan/catalog/systems/hgx-h200.yaml"


@pytest.mark.parametrize(("text", "value"), [("1e5", 1e5), ("2.5e9", 2.5e9), ("-3E2", -300.0), ("1.5e0", 1.5),
                                             (".5e1", 5.0), ("1e-6", 1e-6)])
def test_an_exponent_is_a_float_as_yaml_1_2_reads_it(text: str, value: float) -> None:
    assert safe_load_yaml(f"x: {text}") == {"x": value}


def test_only_the_exponent_forms_change() -> None:
    read = safe_load_yaml("[1e5, 1.0e+5, 2048, 0x10, 1:7, e5, 1e, 1e5x, 12 GB, 1_000e3]")
    assert read == [1e5, 1e5, 2048, 16, "1:7", "e5", "1e", "1e5x", "12 GB", 1e6]
    assert [type(x) for x in read[:3]] == [float, float, int]


def _system_with(tmp_path: Path, count: str) -> Path:
    path = tmp_path / "sys.yaml"
    path.write_text(SHIPPED.read_text().replace("total_accelerators: 2048", f"total_accelerators: {count}"))
    return path


def test_a_whole_count_with_an_exponent_is_the_count(tmp_path: Path) -> None:
    assert load_system(str(_system_with(tmp_path, "2.048e3"))).total_accelerators == 2048
    assert load_system(str(_system_with(tmp_path, "2048"))).total_accelerators == 2048


def test_a_fractional_count_is_one_line_naming_the_field_and_value(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"total_accelerators: .*fractional part \(value 2048\.5\)"):
        load_system(str(_system_with(tmp_path, "2.0485e3")))
