"""Two keys read without a word before (hQ3's review, session 37): `swiglu_limit` on a family whose transformers
model has no clamped SwiGLU was priced as GPT-OSS's clamp; a `rope_scaling` factor of 1e300 set a context of
2^31 - 1 tokens. Now the first is priced as the family runs (plain activation) and named, the second refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training

MIXTRAL = {"model_type": "mixtral", "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
           "num_key_value_heads": 8, "intermediate_size": 2048, "vocab_size": 32000, "num_local_experts": 8,
           "num_experts_per_tok": 2, "max_position_embeddings": 4096}


def _write(tmp_path: Path, name: str, config: dict[str, object]) -> str:
    path = tmp_path / name / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    return str(path)


def _step(model: str) -> float:
    return estimate_training(model, "dgx-h100-superpod", 8, ep=8, seq_len=2048, global_batch=8).step_time_s


def test_swiglu_limit_on_mixtral_is_priced_as_mixtral_runs_and_named(tmp_path: Path) -> None:
    plain = _write(tmp_path, "plain", MIXTRAL)
    limited = _write(tmp_path, "limited", {**MIXTRAL, "swiglu_limit": 7.0})
    with pytest.warns(ModelConfigWarning, match=r"swiglu_limit 7.0 \(only transformers' GPT-OSS clamps"):
        shape = load_model(limited)
    assert not shape.clamped_swiglu
    assert _step(limited) == _step(plain)


def test_gpt_oss_keeps_its_clamp() -> None:
    assert load_model("gpt-oss-120b").clamped_swiglu


@pytest.mark.parametrize("factor", [1e300, 1e6])
def test_a_rope_factor_past_any_stated_context_is_refused_naming_the_key(tmp_path: Path, factor: float) -> None:
    scaling = {"rope_type": "yarn", "factor": factor, "original_max_position_embeddings": 4096}
    path = _write(tmp_path, "rope", {**MIXTRAL, "rope_scaling": scaling})
    with pytest.raises(InputError, match="rope_scaling factor .* above the 2,147,483,647 a config may state") as err:
        load_model(path)
    assert "\n" not in str(err.value)


def test_a_large_rope_factor_within_the_bound_scales_the_context(tmp_path: Path) -> None:
    scaling = {"rope_type": "yarn", "factor": 32, "original_max_position_embeddings": 4096}
    assert load_model(_write(tmp_path, "rope", {**MIXTRAL, "rope_scaling": scaling})).max_seq_len == 131072


def test_the_cli_says_the_rope_refusal_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "rope", {**MIXTRAL, "rope_scaling": {"rope_type": "yarn", "factor": 1e300}})
    code = main(["train", path, "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "2048",
                 "--global-batch", "8"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and "rope_scaling factor 1e+300" in err
