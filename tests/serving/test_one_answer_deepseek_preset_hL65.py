"""One answer for the same model asked two ways; frontier leftovers of hH65's walk (hL, session 65).

* The deepseek-v3 / deepseek-r1 presets are the Hugging Face config.json files, `quantization_config` included (fp8
  e4m3, 128 x 128 weight blocks, dynamic activations; aiconfigurator-core 0.12.0 model_configs/deepseek-ai--
  DeepSeek-V3_config.json:37-45, -R1 :37-45). Before, the presets omitted it, so serving's KV "auto" was fp8 for the
  preset (`serving.kv_default` rule 2, a ModelOpt checkpoint assumed) and bf16 for the real file (rule 1): 8 H200 TP8
  fp8 TPOT p50 21.58 vs 21.72 ms. SGLang 0.5.9 / 0.5.23 and vLLM 0.18.0 keep that checkpoint's cache bf16 under
  "auto" (sources in `serving.kv_default`), so the preset now answers bf16, as the file does.
* `--stack deepseek-v3`'s routing note says what HAI-LLM routes with (DeepSeek-V3's auxiliary-loss-free bias
  routing, arXiv:2412.19437 sec. 2.1.2), priced balanced with no invented factor, not NeMo's forced balancing.
* `--rate 0` is refused in one line that says the rate must be positive.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main as cli_main
from infraplan.serving.kv_default import default_kv_dtype
from infraplan.serving.serving_api import estimate_serving
from infraplan.training.estimate import estimate_training

MODELS = resources.files("infraplan.catalog") / "models"
# deepseek-ai/DeepSeek-V3 and -R1 config.json's quantization_config (aiconfigurator-core 0.12.0 copies, :37-45)
HF_FP8 = {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128]}
SERVE: dict[str, Any] = {"tp": 8, "dtype": "fp8", "input_len": 512, "output_len": 32, "concurrency": 4,
                         "requests": 8}


@pytest.mark.parametrize("preset", ["deepseek-v3", "deepseek-r1"])
def test_the_preset_carries_the_hf_files_quantization_config(preset: str) -> None:
    config = json.loads((MODELS / f"{preset}.json").read_text())
    assert config["quantization_config"] == HF_FP8
    assert "deepseek-ai--DeepSeek-" in config["source"]  # where the block is read
    shape = load_model(preset)
    assert (shape.checkpoint_weight_dtype, shape.checkpoint_weight_scope) == ("fp8", "all")


@pytest.mark.parametrize("preset", ["deepseek-v3", "deepseek-r1"])
def test_kv_auto_of_the_block_fp8_checkpoint_is_bf16(preset: str) -> None:
    """SGLang's and vLLM's "auto" on deepseek-ai's fp8 checkpoint: the model dtype (no ModelOpt KV format)."""
    kv, why = default_kv_dtype(load_model(preset), "fp8")
    assert kv == "bf16" and "names no fp8 KV cache" in why and "(fp8 weights)" in why
    # an nvfp4 run is another checkpoint (NVIDIA's ModelOpt FP4 release): rule 2 as before
    assert default_kv_dtype(load_model(preset), "nvfp4")[0] == "fp8"
    assert default_kv_dtype(load_model(preset), "bf16")[0] == "bf16"


def preset_and_file_answers(preset: str, config: dict[str, Any], path: Path,
                            serve: dict[str, Any]) -> list[dict[str, Any]]:
    """`serve` answers of the preset and of `config` written to `path` on 8 H200, without the model's name and the
    warnings (which name the file): one answer, asked two ways (also hF66's Kimi K2 test)."""
    path.write_text(json.dumps(config))
    answers = []
    for model in (preset, str(path)):
        out = estimate_serving(model, "hgx-h200", 8, **serve).model_dump()
        for label in ("model", "warnings"):
            out.pop(label)
        answers.append(out)
    return answers


def test_the_preset_and_the_hf_file_give_one_answer(tmp_path: Path) -> None:
    """The preset and a copy of the Hugging Face file (its two keys no reader uses added) serve alike, field for
    field but the model's name."""
    config = json.loads((MODELS / "deepseek-v3.json").read_text())
    config.pop("source")
    config.update(quantization_config=HF_FP8, transformers_version="4.33.1",
                  auto_map={"AutoConfig": "configuration_deepseek.DeepseekV3Config"})
    answers = preset_and_file_answers("deepseek-v3", config, tmp_path / "DeepSeek-V3.json", SERVE)
    assert answers[0]["deployment"]["kv_dtype"] == "bf16"
    assert answers[0] == answers[1]


def test_hai_llm_routing_note_names_its_own_router() -> None:
    plan: dict[str, Any] = {"gpus": 256, "tp": 1, "pp": 4, "ep": 64, "seq_len": 4096, "global_batch": 4096}
    hai = [n for n in estimate_training("deepseek-v3", "gb200-nvl72-superpod", stack="deepseek-v3", **plan).notes
           if n.startswith("MoE routing")]
    assert len(hai) == 1
    assert "auxiliary-loss-free" in hai[0] and "arXiv:2412.19437" in hai[0] and "no imbalance factor" in hai[0]
    assert "force-balanced" not in hai[0] and "NeMo" not in hai[0]
    nemo = estimate_training("deepseek-v3", "gb200-nvl72-superpod", **plan).notes
    assert any(n.startswith("MoE routing priced force-balanced") for n in nemo)  # NeMo's setting: unchanged


@pytest.mark.parametrize("command", [
    ["serve-plan", "deepseek-r1", "--system", "hgx-h200", "--input-len", "100", "--output-len", "10"],
    ["serve", "llama3-8b", "--system", "hgx-h200", "--gpus", "1", "--input-len", "100", "--output-len", "10"]])
@pytest.mark.parametrize("rate", ["0", "-3", "1e-12"])
def test_a_rate_of_zero_is_refused_as_not_positive(command: list[str], rate: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    rc = cli_main([*command, "--rate", rate])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err, err
    assert "must be > 0" in err and "1e-09 requests/s" in err
    assert "greater than or equal" not in err and "0.000000001" not in err
