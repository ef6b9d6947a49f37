"""Mutant-killing check of `training.optimizers.layer_matrices` (hJ, session 62): the mean layer's matrices, weighted
by each layer kind's share, are the decoder's weights. DeepSeek-V3 (3 dense layers, 58 MoE) on one GPU: 61 mean
layers' matrix parameters are the published 671 B (DeepSeek-V3 report: 671 B total, MTP not counted) less the
embedding and the LM head (2 x 129,280 x 7,168), to 0.1 %; Mixtral 8x7B (46.7 B) and Llama 3 8B (8.03 B) likewise."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.training.estimate import resolve_training
from infraplan.training.optimizers import layer_matrices


@pytest.mark.parametrize(("model", "published", "vocab", "hidden"),
                         [("deepseek-v3", 671e9, 129280, 7168), ("mixtral-8x7b", 46.7e9, 32000, 4096),
                          ("llama3-8b", 8.03e9, 128256, 4096)])
def test_the_mean_layers_matrices_are_the_decoders_weights(model: str, published: float, vocab: int,
                                                            hidden: int) -> None:
    shape = load_model(model)
    row = resolve_training(model, "h100-sxm", 1, seq_len=4096, global_batch=8, zero=0).plan.one_row
    per_layer = sum(float(many) * float(rows) * float(cols) for rows, cols, many in layer_matrices(shape, row))
    assert per_layer * shape.num_layers == pytest.approx(published - 2.0 * vocab * hidden, rel=1e-3)
