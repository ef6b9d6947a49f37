"""Mutation wave 5 (hM5): DualPipe's mirrored pairs at PP2 (`training.mirrored_stages.mirrored_pair_stage`, DeepSeek-V3
arXiv:2412.19437 sec. 3.2.1): rank i holds stages i and p-1-i, so at p = 2 both ranks hold stages 0 and 1 and pace on
their mean; there is no middle pair."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.training.mirrored_stages import mirrored_pair_stage


def test_pp2_has_only_the_end_pair_even_where_the_ends_count_as_layers() -> None:
    # 8 layers, the embedding and the loss each counted as a layer: per = ceil(10 / 2) = 5, stage 0 holds 4 decoder
    # layers + the embedding (0.2 s), stage 1 4 layers + the head (0.2 s): the pair's mean 4 x 1 s + 0.2 s = 4.2 s,
    # 4 layers, half the micro-batches through each end (a "middle pair" of 5 layers would be 5 s)
    expected = (4.2, 4.0, 0.5, 0.5)
    one = mirrored_pair_stage(8, 2.0, 1.0, 0.2, 0.2, "even", True, True)
    assert one == pytest.approx(expected, rel=1e-12)
    grid = mirrored_pair_stage(8, np.array([2.0, 2.0]), np.array([1.0, 1.0]), 0.2, 0.2, "even", True, True)
    for got, want in zip(grid, expected, strict=True):
        assert np.allclose(got, want, rtol=1e-12)
