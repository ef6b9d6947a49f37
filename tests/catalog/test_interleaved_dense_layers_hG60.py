"""An MoE config whose dense layers sit between its routed ones, in Qwen-MoE's or DeepSeek's keys (hG, session 60).

`decoder_sparse_step: 2` (Qwen-MoE: layer i routed where (i + 1) % 2 == 0) or `moe_layer_freq: 2` (DeepSeek) puts a
dense layer between each two routed ones, as Llama 4's `interleave_moe_layer_step: 2` does; the reader counted the
dense layers but priced them all first, so a pipeline's last stages held only routed layers (their experts' weights)
and its first stages only dense ones, where Llama 4's reader spreads them (`dense_layers_interleaved`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.loader import load_model
from infraplan.training.estimate import estimate_training

QWEN_MOE = {"model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768,
            "num_attention_heads": 32, "num_key_value_heads": 4, "num_hidden_layers": 48, "vocab_size": 151936,
            "max_position_embeddings": 40960, "num_experts": 128, "num_experts_per_tok": 8, "head_dim": 128,
            "tie_word_embeddings": False}


def _model(tmp_path: Path, name: str, **keys: object) -> str:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(QWEN_MOE | keys))
    return str(folder / "config.json")


def test_the_dense_layers_place_is_read(tmp_path: Path) -> None:
    cases = [({"decoder_sparse_step": 2}, True),                                  # Qwen-MoE: every other layer routed
             ({"decoder_sparse_step": 1, "mlp_only_layers": [0, 47]}, True),       # one dense layer after the routed
             ({"decoder_sparse_step": 1, "mlp_only_layers": list(range(24))}, False),  # 24 dense layers, first
             ({"decoder_sparse_step": 1}, False)]                                  # no dense layer
    read = [load_model(_model(tmp_path, f"m{i}", **keys)).dense_layers_interleaved for i, (keys, _) in enumerate(cases)]
    assert read == [between for _, between in cases]


def test_deepseek_moe_layer_freq_spreads_its_dense_layers(tmp_path: Path) -> None:
    config = QWEN_MOE | {"model_type": "deepseek_v3", "n_routed_experts": 128, "moe_layer_freq": 2,
                         "first_k_dense_replace": 0}
    (tmp_path / "config.json").write_text(json.dumps(config))
    shape = load_model(str(tmp_path / "config.json"))
    assert (shape.num_dense_layers, shape.dense_layers_interleaved) == (24, True)


def test_a_pipeline_stage_holds_its_share_of_the_routed_layers(tmp_path: Path) -> None:
    """24 dense and 24 routed layers over 4 stages: spread, each stage holds 6 routed layers' experts; first, the
    heaviest stage holds 12 (12 x 75.5 M expert weights a GPU at EP 8 against 6 x (75.5 + 37.7 M dense FFN): 0.46 B
    parameters fewer, of 1.44 B). Without a pipeline, the same memory either way."""
    spread = _model(tmp_path, "spread", decoder_sparse_step=2)
    first = _model(tmp_path, "first", decoder_sparse_step=1, mlp_only_layers=list(range(24)))
    plan = {"gpus": 32, "tp": 1, "ep": 8, "seq_len": 4096, "global_batch": 256}
    one = [estimate_training(m, "dgx-h100-superpod", pp=1, **plan).memory_per_gpu_bytes  # type: ignore[arg-type]
           for m in (spread, first)]
    four = [estimate_training(m, "dgx-h100-superpod", pp=4, **plan).memory_breakdown_bytes  # type: ignore[arg-type]
            for m in (spread, first)]
    assert one[0] == pytest.approx(one[1], rel=1e-9)
    assert four[0].weights < 0.9 * four[1].weights
    assert four[0].optimizer < 0.9 * four[1].optimizer
