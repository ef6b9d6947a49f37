"""Mutants of `catalog.loader_kinds` (hU69's another-kind's-file lines, hU52's model refusals) the suite let live
(hI, session 70), each killed by what the user reads: the line names what the file is and the command that takes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infraplan.catalog import load_model
from infraplan.catalog.loader_kinds import another_kinds_file
from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.errors import InputError

LLAMA = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "models" / "llama3-8b.json"


def _write(path: Path, data: dict[str, object]) -> str:
    path.write_text(yaml.safe_dump(data) if path.suffix == ".yaml" else json.dumps(data))
    return str(path)


def test_a_video_device_file_given_as_the_model_names_the_command_that_takes_it(tmp_path: Path) -> None:
    """A video ASIC's file as `train`'s model: its line says what it is and that `video --device FILE` takes it (a
    mutant that named it from the hardware refusal, video or not, told the user to give a config.json instead)."""
    ref = _write(tmp_path / "asic.json", {"kind": "video-asic", "name": "v"})
    with pytest.raises(InputError) as refused:
        load_model(ref)
    line = str(refused.value)
    assert "is a video device file (kind: video-asic), not a Hugging Face config.json" in line
    assert "`video --device FILE`" in line and "\n" not in line


def test_a_stack_what_if_given_as_the_model_is_named_a_stack_file(tmp_path: Path) -> None:
    """A stack what-if (`extends` and `display_name`, no `stack_class`) as the model: "is a stack file" and --stack,
    not the generic "a what-if of a catalog file (an accelerator's, a system's or a stack's)"."""
    ref = _write(tmp_path / "mine.json", {"extends": "vllm-0.x", "display_name": "my vLLM"})
    with pytest.raises(InputError, match=r"is a stack file, not a Hugging Face config\.json.*a stack with --stack"):
        load_model(ref)


def test_a_config_with_an_extends_key_is_still_a_model(tmp_path: Path) -> None:
    """A real config.json that happens to carry an `extends` key (model_type, num_hidden_layers: a model's) is read
    as the model (the key said not understood), not refused as a catalog what-if."""
    config = json.loads(LLAMA.read_text())
    ref = _write(tmp_path / "config.json", {**config, "extends": "llama3-8b"})
    with pytest.warns(ModelConfigWarning, match="not understood.*extends"):
        shape = load_model(ref)
    assert (shape.num_layers, shape.hidden_size) == (config["num_hidden_layers"], config["hidden_size"])


def test_a_config_known_by_its_architectures_alone_is_named_a_model() -> None:
    """`architectures` marks a config.json as much as `model_type` does: given as a system it is named a model's
    config.json read by `train`, `serve` and `serve-plan`."""
    line = another_kinds_file({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096}, "m.json", "system")
    assert line is not None and "is a model's config.json, not a system file" in line
    assert "`train`, `serve` and `serve-plan` take it as the model" in line


def test_a_scenario_without_phases_is_named_a_plan_scenario() -> None:
    """Sites with services or pools are a plan scenario's (a fleet-mix spec has no sites) even with its phases not
    yet written: `plan` reads it, not `fleet-mix`."""
    line = another_kinds_file({"sites": [{"name": "s"}], "services": [], "pools": []}, "s.yaml", "system")
    assert line is not None and line.startswith("s.yaml is a plan scenario (phases, services, pools at sites)")
    assert "`infraplan plan FILE` plans it" in line
