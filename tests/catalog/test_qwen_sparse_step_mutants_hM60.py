"""Mutants of hG60's routed-layer placement (`frontier_config._moe_layers`; hM, session 60): Qwen-MoE routes layer i
where (i + 1) % decoder_sparse_step == 0 and i is not in mlp_only_layers (transformers' Qwen2MoeDecoderLayer,
modeling_qwen2_moe.py), so with a step of 2 layer 0 is dense already and layer 1 is the first routed one."""

from __future__ import annotations

import json
from pathlib import Path

from infraplan.catalog.loader import load_model

QWEN_MOE = {"model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768,
            "num_attention_heads": 32, "num_key_value_heads": 4, "num_hidden_layers": 48, "vocab_size": 151936,
            "max_position_embeddings": 40960, "num_experts": 128, "num_experts_per_tok": 8, "head_dim": 128,
            "tie_word_embeddings": False}


def _dense(tmp_path: Path, **keys: object) -> int:
    folder = tmp_path / f"m{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(QWEN_MOE | keys))
    return load_model(str(folder / "config.json")).num_dense_layers


def test_the_first_routed_layer_is_the_steps_last(tmp_path: Path) -> None:
    every_other = _dense(tmp_path, decoder_sparse_step=2)
    assert every_other == 24
    assert _dense(tmp_path, decoder_sparse_step=2, mlp_only_layers=[0]) == every_other  # layer 0: dense already
    assert _dense(tmp_path, decoder_sparse_step=2, mlp_only_layers=[1]) == every_other + 1  # layer 1: routed


def test_an_odd_layer_count_ends_on_a_dense_layer(tmp_path: Path) -> None:
    assert _dense(tmp_path, decoder_sparse_step=2, num_hidden_layers=47) == 24  # routed: 1, 3, ..., 45
    assert _dense(tmp_path, decoder_sparse_step=3, num_hidden_layers=4) == 3  # routed: 2 only
