"""A shared-expert key is priced only on the families whose transformers MoE block reads it (hW74).

transformers 4.57.1 (read in the wheel): Qwen2-MoE builds its shared expert from `shared_expert_intermediate_size`
(modeling_qwen2_moe.py:602), DeepSeek-V2 / V3 from `moe_intermediate_size * n_shared_experts`
(modeling_deepseek_v2.py:110-112, modeling_deepseek_v3.py:171-172), and Mixtral, Qwen3-MoE and GPT-OSS hold none. The
reader priced any of `n_shared_experts`, `num_shared_experts`, `shared_expert_intermediate_size` on any family, in
silence: Qwen3-30B-A3B's file with `n_shared_experts: 2` gained two 768-wide experts a layer (30.53 -> 30.98 B
parameters), DeepSeek-V3's with `shared_expert_intermediate_size: 4096` a 4,096-wide shared expert where the model's
is 2,048. Now such a key is priced as absent and named in one "not read" line. Each test failed at 3f55f383.
"""

from __future__ import annotations

import json
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog import load_model


def load_with_unread_lines(tmp_path: Path, config: dict[str, Any], name: str) -> tuple[Any, list[str]]:
    """The shape of `config` written as `name`.json and loaded, with the "not read" warnings it raised."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape = load_model(str(path))
    return shape, [str(w.message) for w in caught if "not read" in str(w.message)]


def _shape_and_lines(tmp_path: Path, preset: str, **keys: Any) -> tuple[Any, list[str]]:
    config = json.loads(resources.files("infraplan.catalog").joinpath("models", f"{preset}.json").read_text())
    config.update(keys)
    return load_with_unread_lines(tmp_path, config, f"{preset}-mutated")


@pytest.mark.parametrize("key, value", [("n_shared_experts", 2), ("shared_expert_intermediate_size", 4096),
                                        ("num_shared_experts", 1)])
def test_a_family_without_shared_experts_prices_none_and_names_the_key(tmp_path: Path, key: str, value: int) -> None:
    plain = load_model("qwen3-30b-a3b")
    shape, lines = _shape_and_lines(tmp_path, "qwen3-30b-a3b", **{key: value})
    assert shape.shared_ffn_hidden_size == 0 and shape.num_shared_experts == 0
    assert shape.total_params() == plain.total_params()
    assert lines == [f"model config 'qwen3-30b-a3b-mutated': not read: {key} {value} (transformers' qwen3_moe MoE "
                     "block has no shared expert: priced without it)"]


def test_deepseek_reads_n_shared_experts_alone(tmp_path: Path) -> None:
    shipped = load_model("deepseek-v3")
    assert shipped.shared_ffn_hidden_size == 2048  # 1 x moe_intermediate_size
    shape, lines = _shape_and_lines(tmp_path, "deepseek-v3", shared_expert_intermediate_size=4096)
    assert shape.shared_ffn_hidden_size == 2048 and shape.total_params() == shipped.total_params()
    assert len(lines) == 1 and "shared_expert_intermediate_size 4096 (transformers' deepseek_v3 MoE block reads its " \
        "shared expert from n_shared_experts alone" in lines[0]
    two, quiet = _shape_and_lines(tmp_path, "deepseek-v3", n_shared_experts=2)  # the key it reads: priced, no line
    assert two.shared_ffn_hidden_size == 4096 and not quiet


def test_qwen2_moe_reads_its_shared_width_and_names_a_count(tmp_path: Path) -> None:
    base = {"model_type": "qwen2_moe", "hidden_size": 1024, "intermediate_size": 2816, "num_attention_heads": 16,
            "num_key_value_heads": 16, "num_hidden_layers": 4, "vocab_size": 32000, "max_position_embeddings": 4096,
            "num_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 704,
            "shared_expert_intermediate_size": 2816}
    for extra, said in (({}, False), ({"n_shared_experts": 3}, True)):
        path = tmp_path / f"q2-{len(extra)}.json"
        path.write_text(json.dumps({**base, **extra}))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shape = load_model(str(path))
        lines = [str(w.message) for w in caught if "not read" in str(w.message)]
        assert shape.shared_ffn_hidden_size == 2816
        assert bool(lines) is said
        if said:
            assert "n_shared_experts 3 (transformers' qwen2_moe MoE block reads its shared expert from " \
                "shared_expert_intermediate_size alone: priced without it)" in lines[0]
