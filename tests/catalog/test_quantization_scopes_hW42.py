"""Reading a checkpoint's quantization_config into a per-kind scope, with no silent misread (hW42).

The published blocks are NVIDIA's ModelOpt releases as aiconfigurator-core 0.12.0 ships them (model_configs/):
nvidia/DeepSeek-V3.1-NVFP4 `exclude_modules` lists every layer's q_a / q_b / kv_a_proj_with_mqa / kv_b projections
(o_proj stays NVFP4), the MTP layer `model.layers.61*` and `lm_head`; nvidia/Kimi-K2.6-NVFP4 lists its modules under
the multimodal wrapper `language_model.` (`language_model.model.layers.N.self_attn*`, `...mlp.shared_experts*`,
`language_model.model.layers.0*`, `language_model.lm_head`) with `vision_tower*` and `mm_projector*`; nvidia/Qwen3.6-
35B-A3B-NVFP4 has two `config_groups`, FP8 attention and NVFP4 experts. vLLM 0.18.0 reads the wrapper's names as the
text model's (models/kimi_k25.py:332-338, quantization/modelopt.py:165-174).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config
from infraplan.catalog.model_config_quantization import checkpoint_quantization, kind_modules
from infraplan.cli import main
from infraplan.errors import InputError

DEEPSEEK = kind_modules(load_model("deepseek-v3"))  # 61 layers, the first 3 dense, MLA with a q LoRA, 1 shared expert
KIMI = kind_modules(load_model("kimi-k2"))  # 61 layers, the first dense
V31_EXCLUDE = [f"model.layers.{i}.self_attn.{p}" for i in range(61)
               for p in ("q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj")] + ["model.layers.61*", "lm_head"]
K26_EXCLUDE = (["language_model.lm_head", "language_model.model.layers.0*", "mm_projector*", "vision_tower*"]
               + [f"language_model.model.layers.{i}.{m}*" for i in range(1, 61)
                  for m in ("self_attn", "mlp.shared_experts")])


def _modelopt(exclude: list[str], algo: str = "NVFP4") -> dict:
    return {"quantization_config": {"quant_method": "modelopt", "quant_algo": algo, "exclude_modules": exclude}}


def _read(quant: dict, kinds=DEEPSEEK) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    return checkpoint_quantization({"quantization_config": quant}, kinds, "test")


def test_deepseek_v31_nvfp4_keeps_the_attention_projections_in_bf16_and_its_output_projection_in_fp4() -> None:
    assert checkpoint_quantization(_modelopt(V31_EXCLUDE), DEEPSEEK) == (
        "nvfp4", "attention_output+dense_mlp+shared_experts+routed_experts", "")


def test_a_whole_attention_block_left_out_is_the_dense_shared_and_routed_scope() -> None:
    """nvidia/DeepSeek-R1-0528-FP4's block as aiconfigurator-core's helpers.py:70-74 describes it (`self_attn*`)."""
    assert checkpoint_quantization(_modelopt(["lm_head", "model.layers.*.self_attn*"]), DEEPSEEK)[:2] == (
        "nvfp4", "dense_mlp+shared_experts+routed_experts")


def test_kimi_k26_names_under_its_wrapper_are_the_text_models_and_that_is_said() -> None:
    fmt, scope, note = checkpoint_quantization(_modelopt(K26_EXCLUDE), KIMI)
    assert (fmt, scope) == ("nvfp4", "experts")  # attention, shared experts and the dense layer 0 in bf16
    assert checkpoint_quantization(_modelopt(K26_EXCLUDE), DEEPSEEK)[1:] == (  # 3 dense layers: 1 and 2 quantised
        "", "quantization_config (modelopt): dense_mlp quantised on some layers or matrices only, a split not modelled "
        "(dense_mlp: 2 of 3 layers)")
    assert "names under language_model. read as the text model's" in note
    config, _ = read_entry("models", "kimi-k2")
    with pytest.warns(ModelConfigWarning, match="language_model") as caught:
        shape = shape_from_hf_config({**config, **_modelopt(K26_EXCLUDE)}, "k26")
    assert len(caught) == 1 and "--dtype on every layer" not in str(caught[0].message)
    assert (shape.checkpoint_weight_dtype, shape.checkpoint_weight_scope) == ("nvfp4", "experts")


def test_a_module_list_that_names_no_module_of_the_model_is_said() -> None:
    fmt, scope, note = checkpoint_quantization(_modelopt(["transformer.h.*.attn", "transformer.h.*.mlp"]), DEEPSEEK)
    assert (fmt, scope) == ("nvfp4", "all") and "names a module of this model" in note and "transformer.h" in note


def test_a_kind_quantised_on_some_layers_only_is_named_and_priced_at_the_dtype() -> None:
    fmt, scope, why = checkpoint_quantization(_modelopt(["lm_head", "model.layers.0.self_attn*"]), DEEPSEEK)
    assert (fmt, scope) == ("", "") and "attention, attention_output quantised on some layers" in why
    fmt, scope, why = checkpoint_quantization(_modelopt(["model.layers.*.self_attn.kv_a_proj_with_mqa"]), DEEPSEEK)
    assert (fmt, scope) == ("", "") and "attention quantised on some layers or matrices" in why


def _group(bits: int, kind: str, targets: list[str]) -> dict:
    return {"weights": {"num_bits": bits, "type": kind}, "targets": targets}


def test_two_config_groups_of_one_format_are_read_together() -> None:
    quant = {"quant_method": "compressed-tensors", "ignore": ["lm_head"],
             "config_groups": {"group_0": _group(4, "int", ["re:.*mlp\\.experts.*"]),
                               "group_1": _group(4, "int", ["re:.*shared_experts.*"])}}
    assert _read(quant) == ("int4", "shared_experts+routed_experts", "")


def test_two_config_groups_of_two_formats_are_named_in_the_warning() -> None:
    quant = {"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION",
             "config_groups": {"group_0": _group(8, "float", ["re:.*self_attn.*"]),
                               "group_1": _group(4, "float", ["re:.*mlp\\.experts.*"])}}
    fmt, scope, why = _read(quant)
    assert (fmt, scope) == ("", "") and "group_0 (fp8), group_1 (nvfp4): two formats" in why


def test_a_gptq_lm_head_is_read_not_said() -> None:
    """GPTQ's `lm_head: true` is priced as vLLM 0.18.0 runs it (hQ44: tests/catalog/test_lm_head_and_wrapped_regex_
    hQ44.py), so the reader has nothing to say about it."""
    assert _read({"quant_method": "gptq", "bits": 4, "lm_head": True}) == ("int4", "all", "")
    assert _read({"quant_method": "gptq", "bits": 4, "lm_head": False}) == ("int4", "all", "")


@pytest.mark.parametrize(("quant", "said"), [
    ({"quant_method": "mxfp4", "ignore": 5}, "ignore must be a module name or a list of them"),
    ({"quant_method": "mxfp4", "modules_to_not_convert": {"a": 1}}, "modules_to_not_convert must be"),
    ({"quant_method": "modelopt", "quant_algo": "FP8", "exclude_modules": ["lm_head", 3]}, "exclude_modules must be"),
    ({"quant_method": "compressed-tensors", "config_groups": [1, 2]}, "config_groups must be an object"),
    ({"quant_method": "compressed-tensors", "config_groups": {"g": _group(4, "int", 3)}}, "targets must be"),  # type: ignore[arg-type]
    ({"quant_method": "mxfp4", "ignore": ["re:("]}, "'re:(' is not a regular expression"),
])
def test_a_module_list_of_the_wrong_type_is_bad_input(quant: dict, said: str) -> None:
    with pytest.raises(InputError, match=said.replace("(", r"\(")):
        _read(quant)


def test_a_user_config_with_a_bad_module_list_is_one_line_and_exit_2(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = read_entry("models", "gpt-oss-20b")
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config, "quantization_config": {"quant_method": "mxfp4", "ignore": 5}}))
    args = ["serve", str(path), "--system", "h100-sxm", "--gpus", "1", "--input-len", "128", "--output-len", "8",
            "--concurrency", "1", "--requests", "2", "--dtype", "mxfp4", "--json"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelConfigWarning)
        assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "ignore must be a module name" in err
