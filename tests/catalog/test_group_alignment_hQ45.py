"""A GPTQ / AWQ group size that does not divide a quantised layer's input width is refused, as vLLM 0.18.0 refuses it
(hQ45; catalog/integer_group_scales.py).

gptq.py:250 / awq.py:191 raise "The input size is not aligned with the quantized weight shape" where
`input_size_per_partition % group_size`; before, a group of 7 on Llama 3 8B (hidden 4096 = 7 x 585 + 1) was priced as
585.14 groups per row. The routed experts run the MoE WNA16 kernel, which halves the group until it divides the hidden
and expert widths and stops below 32 (moe_wna16.py:239-245): by hand, groups of 128 on an expert width of 1344 =
64 x 21 run at 64, on 1376 = 32 x 43 at 32, on 1360 = 16 x 85 not at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.integer_group_scales import kind_input_widths
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.cli import main
from infraplan.errors import InputError

GPTQ = {"quant_method": "gptq", "bits": 4, "group_size": 128, "sym": True}


def _shape(model: str, quant: dict, **changes: object) -> TransformerShape:
    config, _ = read_entry("models", model)
    return shape_from_hf_config({**config, **changes, "quantization_config": quant}, "m")


@pytest.mark.parametrize("method", ["gptq", "awq"])
def test_a_group_that_does_not_divide_the_hidden_width_is_refused(method: str) -> None:
    with pytest.raises(InputError, match=r"model config 'm': .*group_size 7 does not divide the attention input "
                                         r"width 4096"):
        _shape("llama3-8b", {**GPTQ, "quant_method": method, "group_size": 7})


def test_the_down_projection_width_is_checked_too() -> None:
    # 4096 = 2^12 and 14336 = 2^11 x 7: a group of 4096 divides the hidden width but not the down projection's
    with pytest.raises(InputError, match="group_size 4096 does not divide the dense_mlp input width 14336"):
        _shape("llama3-8b", {**GPTQ, "group_size": 4096})
    assert _shape("llama3-8b", {**GPTQ, "group_size": 2048}).checkpoint_weight_bytes == pytest.approx(
        0.5 + 2.0 / 2048, rel=1e-12)


def test_an_unquantised_kind_is_not_checked() -> None:
    # the MLP left in bf16: only the attention's widths (4096) must hold the group
    quant = {**GPTQ, "group_size": 4096, "modules_to_not_convert": ["mlp"]}
    assert _shape("llama3-8b", quant).checkpoint_weight_scope == "attention+attention_output"


def test_per_channel_and_dividing_groups_still_read() -> None:
    assert _shape("llama3-8b", {**GPTQ, "group_size": -1}).checkpoint_weight_dtype == "int4"
    assert _shape("llama3-8b", GPTQ).checkpoint_weight_bytes == pytest.approx(0.5 + 2.0 / 128, rel=1e-12)


@pytest.mark.parametrize(("expert_width", "runs"), [(1344, True), (1376, True), (1360, False)])
def test_routed_experts_halve_the_group_down_to_32(expert_width: int, runs: bool) -> None:
    if runs:
        assert _shape("mixtral-8x7b", GPTQ, intermediate_size=expert_width).checkpoint_weight_scope == "all"
    else:
        with pytest.raises(InputError, match="halved down to 32, divides the routed experts' input widths 4096 and "
                                             "1360"):
            _shape("mixtral-8x7b", GPTQ, intermediate_size=expert_width)


def test_mla_input_widths_are_its_ranks() -> None:
    config, _ = read_entry("models", "deepseek-v3")
    widths = kind_input_widths(shape_from_hf_config(config, "deepseek-v3"))
    assert widths["attention"] == (7168, config["q_lora_rank"], config["kv_lora_rank"])
    assert widths["attention_output"] == (config["num_attention_heads"] * config["v_head_dim"],)
    assert widths["shared_experts"] == (7168, config["moe_intermediate_size"] * config["n_shared_experts"])


def test_a_quantised_lm_head_is_checked_on_the_hidden_width() -> None:
    # only the output projection quantised, on 32 heads x 96 = 3072 inputs: a group of 3072 divides it but not the
    # hidden width 4096 the LM head reads, which `lm_head: true` quantises too
    quant = {**GPTQ, "group_size": 3072, "modules_to_not_convert": ["q_proj", "k_proj", "v_proj", "mlp"]}
    shape = _shape("llama3-8b", quant, head_dim=96)
    assert shape.checkpoint_weight_scope == "attention_output" and not shape.checkpoint_lm_head_quantised
    with pytest.raises(InputError, match="does not divide the LM head's input width 4096"):
        _shape("llama3-8b", {**quant, "lm_head": True}, head_dim=96)


@pytest.mark.parametrize("skipped", [[], ["vision_tower"]])  # the second alone says a note (it names no module)
def test_serve_refuses_an_unaligned_group_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      skipped: list[str]) -> None:
    config, _ = read_entry("models", "llama3-8b")
    path = tmp_path / "config.json"
    quant = {**GPTQ, "group_size": 7, "modules_to_not_convert": skipped}
    path.write_text(json.dumps({**config, "quantization_config": quant}))
    code = main(["serve", str(path), "--system", "h100-sxm", "--gpus", "1", "--dtype", "int4", "--input-len", "100",
                 "--output-len", "10", "--offline", "--requests", "8"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "group_size 7 does not divide" in err
    if skipped:
        with pytest.warns(UserWarning, match="names a module of this model"):
            _shape("llama3-8b", {**quant, "group_size": 128})
