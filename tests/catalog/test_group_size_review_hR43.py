"""Review of session 43's landed diff (hR43): a GPTQ / AWQ / compressed-tensors group size that is not a count, and
the weight-format line's bytes per weight.

vLLM 0.18.0 gptq.py / awq.py `create_weights` divide the input dimension by `group_size` (-1: one scale per output
channel), so a group size of 0 or a string stops the engine, and JSON `true` is not 1 weight per scale: before, a
`group_size: true` priced int4 at 0.5 + 2 / 1 = 2.5 B per weight (above bf16's 2 B), a 0 fell through to
`q_group_size`, a string to no scales at all, all silently. By hand, 4 bits in symmetric groups of 128: 0.5 + 2 / 128
= 0.515625 B per weight, which the weights are priced at (`ops.precision.stored_weight_bytes`) and which
`weight_format` said as 0.5 (the format's width) before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.model_config_quantization import stored_bytes
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.serving.deployment import weight_format

GPTQ = {"quant_method": "gptq", "bits": 4, "group_size": 128, "sym": True}


@pytest.mark.parametrize("group", [True, False, 0, -2, "128", 128.0])
@pytest.mark.parametrize(("method", "key"), [("gptq", "group_size"), ("awq", "group_size"), ("awq", "q_group_size")])
def test_a_group_size_not_a_count_is_refused(method: str, key: str, group: object) -> None:
    with pytest.raises(InputError, match="group_size is weights per scale or -1"):
        stored_bytes({"quant_method": method, "bits": 4, key: group})


def test_a_zero_group_size_does_not_fall_through_to_q_group_size() -> None:
    with pytest.raises(InputError, match="got 0"):
        stored_bytes({"quant_method": "awq", "bits": 4, "group_size": 0, "q_group_size": 128})


def test_per_channel_and_unstated_groups_keep_the_formats_width() -> None:
    assert stored_bytes({**GPTQ, "group_size": -1}) == 0.0
    assert stored_bytes({"quant_method": "gptq", "bits": 4}) == 0.0
    assert stored_bytes(GPTQ) == pytest.approx(0.5 + 2.0 / 128, rel=1e-12)


def test_a_boolean_compressed_tensors_group_is_not_one_weight_per_scale() -> None:
    group = {"weights": {"type": "int", "strategy": "group", "symmetric": True, "num_bits": 4, "group_size": True}}
    assert stored_bytes({"quant_method": "compressed-tensors", "config_groups": {"g": group}}) == 0.0
    group["weights"]["group_size"] = 32  # Kimi K2.5's groups: 0.5 + 2 / 32 by hand
    assert stored_bytes({"quant_method": "compressed-tensors", "config_groups": {"g": group}}) == pytest.approx(
        0.5625, rel=1e-12)


def test_serve_refuses_a_boolean_group_size_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = read_entry("models", "llama3-8b")
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config, "quantization_config": {**GPTQ, "group_size": True}}))
    code = main(["serve", str(path), "--system", "h100-sxm", "--gpus", "1", "--dtype", "int4", "--input-len", "100",
                 "--output-len", "10", "--offline", "--requests", "8"])
    err = capsys.readouterr().err
    assert code == 2
    assert "group_size is weights per scale or -1, got True" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_weight_format_says_the_bytes_priced() -> None:
    h100 = load_accelerator("h100-sxm")
    config, _ = read_entry("models", "llama3-8b")
    grouped = shape_from_hf_config({**config, "quantization_config": GPTQ}, "gptq-g128")
    assert "W4A16: 0.515625 B per weight" in weight_format(h100, "int4", grouped)
    bare = shape_from_hf_config(config, "llama3-8b")
    assert "W4A16: 0.5 B per weight" in weight_format(h100, "int4", bare)
    assert "W4A16: 0.5 B per weight" in weight_format(h100, "int4")  # no shape: the format's own width
