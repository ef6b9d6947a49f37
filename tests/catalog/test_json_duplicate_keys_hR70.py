"""A JSON file that gives one name twice in an object is refused in one line, as a YAML file is (hR70, session 49):
`catalog.loader.parse_text` read `.json` files (a Hugging Face config.json, a system or model file written as JSON)
with `json.loads`, which keeps the last of a repeated name silently (RFC 8259 Sec. 4: names SHOULD be unique, readers
differ), while the YAML reader refused the same repeat since hY64."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from infraplan.catalog.user_files import parse_text
from infraplan.catalog.yaml_text import DuplicateJsonKeyError, safe_load_json
from infraplan.cli import main
from infraplan.errors import InputError

REPO = Path(__file__).resolve().parents[2]


def test_a_repeated_name_is_refused_at_any_depth():
    with pytest.raises(InputError, match=r"^malformed file m\.json: duplicate key 'a' in one JSON object$"):
        parse_text('{"a": 1, "b": 2, "a": 3}', "m.json")
    with pytest.raises(DuplicateJsonKeyError, match="duplicate key 'layers'"):
        safe_load_json('{"text_config": {"layers": 2, "layers": 4}}')


def test_what_is_not_a_repeat_still_loads_as_json_loads_it():
    text = '{"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 3}, {"x": 4}], "A": 5}'
    assert parse_text(text, "m.json") == json.loads(text)


def test_every_shipped_json_file_loads():
    package = Path(str(resources.files("infraplan")))
    files = sorted([*package.rglob("*.json"), *(REPO / "examples").rglob("*.json")])
    assert len(files) > 30  # the model presets at least
    for path in files:
        assert safe_load_json(path.read_text(encoding="utf-8-sig")) == json.loads(path.read_text(encoding="utf-8-sig"))


def test_a_config_json_with_a_repeated_key_exits_2_in_one_line(tmp_path, capsys):
    preset = (resources.files("infraplan.catalog") / "models" / "llama3-8b.json").read_text(encoding="utf-8")
    assert preset.count('"num_hidden_layers"') == 1
    path = tmp_path / "config.json"
    path.write_text(preset.replace('"num_hidden_layers"', '"num_hidden_layers": 2, "num_hidden_layers"', 1))
    assert main(["train", str(path), "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "8", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "config.json" in err and "duplicate key 'num_hidden_layers'" in err
