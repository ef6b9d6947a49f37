"""Mutation tests on hW74's shared-expert keys (catalog/frontier_config.py `SHARED_EXPERT_KEYS`; hM74).

transformers 4.57.1 (as hW74 read it): Qwen2-MoE's sparse block builds one shared expert of
`shared_expert_intermediate_size` (no count key); DeepSeek-V3's, which Kimi K2's config (`model_type: kimi_k2`,
DeepseekV3 architecture) runs, builds `n_shared_experts` x `moe_intermediate_size`; Qwen3-MoE's none. A key the
family's block does not read is priced as absent and named once; a key set to 0 is no key.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from tests.catalog.test_shared_expert_keys_hW74 import load_with_unread_lines

QWEN2 = {"model_type": "qwen2_moe", "hidden_size": 1024, "intermediate_size": 2816, "num_attention_heads": 16,
         "num_key_value_heads": 16, "num_hidden_layers": 4, "vocab_size": 32000, "max_position_embeddings": 4096,
         "num_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 704,
         "shared_expert_intermediate_size": 2816}


def _load(tmp_path: Path, config: dict[str, Any], name: str) -> tuple[Any, list[str]]:
    return load_with_unread_lines(tmp_path, config, name)


def _preset(name: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(resources.files("infraplan.catalog").joinpath("models", f"{name}.json")
                                        .read_text())
    return config


def test_qwen2_moe_has_one_shared_expert_whatever_num_shared_experts_says(tmp_path: Path) -> None:
    plain, quiet = _load(tmp_path, QWEN2, "q2")
    assert (plain.num_shared_experts, plain.shared_ffn_hidden_size) == (1, 2816) and not quiet
    shape, lines = _load(tmp_path, {**QWEN2, "num_shared_experts": 2}, "q2-two")
    assert (shape.num_shared_experts, shape.shared_ffn_hidden_size) == (1, 2816)
    assert shape.total_params() == plain.total_params()
    assert len(lines) == 1 and "num_shared_experts 2 (transformers' qwen2_moe MoE block reads its shared expert from " \
        "shared_expert_intermediate_size alone: priced without it)" in lines[0]


def test_kimi_k2_reads_n_shared_experts_as_deepseek_v3_does(tmp_path: Path) -> None:
    config = _preset("kimi-k2")
    assert config["model_type"] == "kimi_k2" and config["n_shared_experts"] == 1
    shipped, quiet = _load(tmp_path, config, "k2")
    assert shipped.shared_ffn_hidden_size == 2048 and not quiet  # 1 x moe_intermediate_size 2,048
    wide, lines = _load(tmp_path, {**config, "shared_expert_intermediate_size": 4096}, "k2-wide")
    assert wide.shared_ffn_hidden_size == 2048 and wide.total_params() == shipped.total_params()
    assert len(lines) == 1 and "shared_expert_intermediate_size 4096 (transformers' kimi_k2 MoE block reads its " \
        "shared expert from n_shared_experts alone: priced without it)" in lines[0]


def test_a_zero_key_is_no_key_and_two_keys_are_named_together(tmp_path: Path) -> None:
    config = _preset("qwen3-30b-a3b")
    _, quiet = _load(tmp_path, {**config, "n_shared_experts": 0, "shared_expert_intermediate_size": 0}, "q3-zero")
    assert quiet == []
    _, lines = _load(tmp_path, {**config, "n_shared_experts": 2, "shared_expert_intermediate_size": 768}, "q3-two")
    assert len(lines) == 1 and "n_shared_experts 2, shared_expert_intermediate_size 768 (transformers' qwen3_moe MoE " \
        "block has no shared expert: priced without them)" in lines[0]


@pytest.mark.parametrize("family", ["mixtral", "gpt_oss"])
def test_other_families_without_a_shared_expert_price_none(tmp_path: Path, family: str) -> None:
    config = {**QWEN2, "model_type": family}
    config.pop("shared_expert_intermediate_size")
    plain, _ = _load(tmp_path, config, f"{family}-plain")
    shape, lines = _load(tmp_path, {**config, "n_shared_experts": 1}, family)
    assert shape.num_shared_experts == 0 and shape.total_params() == plain.total_params()
    assert len(lines) == 1 and f"transformers' {family} MoE block has no shared expert" in lines[0]


def test_a_family_not_listed_reads_every_shared_key_and_names_none(tmp_path: Path) -> None:
    """GLM-4.5's `glm4_moe` is not in the table: its `n_shared_experts` x `moe_intermediate_size` is priced."""
    config = {**QWEN2, "model_type": "glm4_moe", "n_shared_experts": 2}
    config.pop("shared_expert_intermediate_size")
    shape, lines = _load(tmp_path, config, "glm")
    assert (shape.num_shared_experts, shape.shared_ffn_hidden_size) == (2, 2 * 704) and lines == []
