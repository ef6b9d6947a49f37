"""A field that takes only numbers refuses a quoted number (hF, session 65; session 64's "Left", Catalog): pydantic's
lax mode read the text "8" as 8 and "1e3" as 1000.0 in an int or float field, so a system file's
`total_accelerators: "16384"` or a stack's `matmul_max_fraction: {bf16: "0.7"}` read in silence
(`catalog.spec_base.Spec`). The product's YAML reader resolves YAML 1.2 numbers (`3.9e12` is a float, hL60), so no
shipped file needs the lax reading; a field with its own text reader (`host_power_w: 4600W`) keeps reading text."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.catalog.spec_field_walk import field_errors, spec_fields

import infraplan.catalog
import infraplan.planning
import infraplan.sweep
from infraplan.catalog.loader import list_presets, load_accelerator, load_system
from infraplan.catalog.spec_base import only_numbers_field, takes_only_numbers
from infraplan.catalog.stacks import load_stack
from infraplan.cli import main
from infraplan.errors import InputError

NUMBER_FIELDS = spec_fields((infraplan.catalog, infraplan.planning, infraplan.sweep), only_numbers_field)
CATALOG = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog"
SYSTEMS, ACCELERATORS = CATALOG / "systems", CATALOG / "accelerators"


def test_the_rule_knows_which_fields_take_only_numbers():
    names = {f"{cls.__name__}.{name}" for cls, name in NUMBER_FIELDS}
    assert {"System.total_accelerators", "Node.accelerators_per_node", "Node.scale_up_domain",
            "NetworkTier.switch_radix", "Accelerator.price_usd", "ServiceSpec.gpus", "RangeAxis.start"} <= names
    assert not {"Node.host_power_w", "Node.nic_bandwidth_bytes_per_s", "NetworkTier.oversubscription"} & names  # text
    assert takes_only_numbers(dict[str, float]) and takes_only_numbers(list[int] | None)
    assert not takes_only_numbers(int | str) and not takes_only_numbers(bool | float)


@pytest.mark.parametrize("value", ["8", "1e3", " 0.5 ", "-2"])
def test_every_number_field_refuses_a_quoted_number(value: str):
    lax = [f"{cls.__name__}.{name}" for cls, name in NUMBER_FIELDS
           if not any("takes a number, not the text" in msg for msg in field_errors(cls, name, value))]
    assert not lax, lax


def test_text_that_is_no_number_keeps_pydantics_message():
    assert not any("takes a number" in msg for msg in field_errors(load_system("dgx-h100-superpod").__class__,
                                                                   "total_accelerators", "lots"))


def _system(tmp_path: Path, old: str, new: str) -> str:
    text = (SYSTEMS / "dgx-h100-superpod.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "mine.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("old", "new", "said"), [
    ("total_accelerators: 16384", 'total_accelerators: "16384"', "total_accelerators: takes a number, not the text "
                                                                  "'16384'"),
    ("scale_up_domain: 8", "scale_up_domain: '8'", "scale_up_domain: takes a number, not the text '8'"),
    ("collective_efficiency: 0.94", 'collective_efficiency: "9.4e-1"', "not the text '9.4e-1'"),
    ("switch_radix: 64, port", 'switch_radix: "64", port', "switch_radix: takes a number, not the text '64'"),
])
def test_a_system_files_quoted_number_is_refused(tmp_path: Path, old: str, new: str, said: str):
    with pytest.raises(InputError, match="write it without quotes") as caught:
        load_system(_system(tmp_path, old, new))
    assert said in str(caught.value), str(caught.value)


def test_unquoted_exponents_and_unit_text_still_read(tmp_path: Path):
    system = load_system(_system(tmp_path, "hop_latency_s: 1.0e-6, switch_radix: 64, port",
                                 "hop_latency_s: 1e-6, switch_radix: 64, port"))  # YAML 1.2's float (1.1: a string)
    assert system.network.tiers[0].hop_latency_s == 1e-6 and system.node.host_power_w == 4600.0


def test_a_nested_quoted_number_is_refused(tmp_path: Path):
    text = (ACCELERATORS / "h200.yaml").read_text(encoding="utf-8")
    path = tmp_path / "xpu.yaml"
    path.write_text(text.replace("{bf16: 0.70, fp16", "{bf16: '0.70', fp16"), encoding="utf-8")
    with pytest.raises(InputError, match=r"matmul_max_fraction: takes a number, not the text '0.70': write it "):
        load_accelerator(str(path))


def test_train_on_such_a_system_says_one_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["train", "llama3-8b", "--system", _system(tmp_path, "scale_up_domain: 8", 'scale_up_domain: "8"'),
                 "--gpus", "8", "--seq-len", "4096", "--global-batch", "64"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, (code, err)
    assert "scale_up_domain: takes a number, not the text '8': write it without quotes" in err


def test_every_shipped_part_system_and_stack_loads_under_the_rule():
    loaded = [*map(load_accelerator, list_presets("accelerators")), *map(load_system, list_presets("systems")),
              *map(load_stack, list_presets("stacks"))]
    assert len(loaded) >= 50  # (the whole catalog: tests/catalog; `validate --json` identical to the base)
