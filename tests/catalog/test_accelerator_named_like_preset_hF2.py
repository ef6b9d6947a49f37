"""An accelerator file named like a preset (a user's edited ./h200.yaml, or `name: h200` in any file) whose figures
differ from the preset's (hF2, session 39).

It took the preset's name-keyed measured tables (NCCL, MNNVL, serving release tables), error bands and price as
if it were the preset, silently: `serve` printed no "price inherited" line and answered under the name `h200`. It is
now a what-if of that preset, as the same change written `extends: h200` in a file of its own name is: named
`h200-what-if`, its price inherited with the note, and a warning names the figures that differ. A copy with the
preset's figures is still the preset, and an `extends` file is unchanged.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog.hardware_costs import accelerator_price
from infraplan.catalog.loader import AcceleratorFileWarning, is_what_if, load_accelerator
from infraplan.cli import main

PRESET = resources.files("infraplan.catalog") / "accelerators" / "h200.yaml"
FASTER_HBM = ("memory_bandwidth_bytes_per_s: 4.8TB/s", "memory_bandwidth_bytes_per_s: 5.5TB/s")


def _edited(path: Path, old: str, new: str) -> str:
    text = PRESET.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return str(path)


def test_an_edited_copy_named_like_the_preset_is_a_what_if_of_it(tmp_path: Path) -> None:
    with pytest.warns(AcceleratorFileWarning, match=r"named like the preset h200 .*memory_bandwidth_bytes_per_s"):
        part = load_accelerator(_edited(tmp_path / "h200.yaml", *FASTER_HBM))
    assert (part.name, part.extends, part.catalog_name) == ("h200-what-if", "h200", "h200")
    assert part.memory_bandwidth_bytes_per_s == 5.5e12
    assert is_what_if(part)
    price = accelerator_price(part)
    assert price is not None and price.note is not None and "inherited by the what-if h200-what-if" in price.note


def test_a_name_key_inside_any_file_is_the_same(tmp_path: Path) -> None:
    mine = _edited(tmp_path / "other.yaml", FASTER_HBM[0], FASTER_HBM[1] + "\nname: h200")
    with pytest.warns(AcceleratorFileWarning):
        assert load_accelerator(mine).name == "h200-what-if"


def test_an_exact_copy_named_like_the_preset_is_the_preset(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    part = load_accelerator(_edited(tmp_path / "h200.yaml", "", ""))
    assert part == load_accelerator("h200")
    assert not [w for w in recwarn if issubclass(w.category, AcceleratorFileWarning)]


def test_an_extends_file_is_unchanged(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    mine = tmp_path / "fast-h200.yaml"
    mine.write_text("extends: h200\nmemory_bandwidth_bytes_per_s: 5.5TB/s\n")
    part = load_accelerator(str(mine))
    assert (part.name, part.extends) == ("fast-h200", "h200")
    assert not [w for w in recwarn if issubclass(w.category, AcceleratorFileWarning)]


def _serve(capsys: pytest.CaptureFixture[str], system: str) -> tuple[dict[str, Any], str]:
    capsys.readouterr()
    code = main(["serve", "llama3-8b", "--system", system, "--gpus", "1", "--workload", "chat", "--rate", "5",
                 "--requests", "300", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


def test_serve_answers_the_edited_copy_as_the_extends_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same change two ways, one answer: the edited h200.yaml and `extends: h200` with the same bandwidth."""
    mine = tmp_path / "fast-h200.yaml"
    mine.write_text("extends: h200\nmemory_bandwidth_bytes_per_s: 5.5TB/s\n")
    by_extends, quiet = _serve(capsys, str(mine))
    by_name, warned = _serve(capsys, _edited(tmp_path / "h200.yaml", *FASTER_HBM))
    assert "named like" not in quiet
    assert warned.startswith("infraplan: warning: ")
    assert "AcceleratorFileWarning" not in warned  # infraplan's own warnings carry no category (cli.main)
    assert warned.count("\n") == 1 and "named like the preset h200 but its figures differ " \
        "(memory_bandwidth_bytes_per_s): taken as a what-if of h200 named h200-what-if" in warned
    assert by_name["accelerator"] == "h200-what-if"
    assert any("price of h200 inherited by the what-if h200-what-if" in w for w in by_name["warnings"])
    for label in ("system", "accelerator", "warnings"):
        by_extends.pop(label), by_name.pop(label)
    assert by_name == by_extends
