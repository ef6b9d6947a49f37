"""Mutation spot-checks (hH2, session 33): serving memory terms that no test pinned.

Each value is a hand calculation from the rule the source code cites, not a copy of the current output.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.serving import kv_pool_trtllm, kv_pool_window
from infraplan.serving.kv_cache import workspace_bytes


def test_sampled_rows_hold_fp32_logits_over_the_tp_shard_of_the_vocabulary() -> None:
    """vLLM samples from fp32 logits (the module docstring: "plus fp32 logits of the sampled rows"): each of
    `max_batch` rows holds V / TP logits of 4 B. Llama 3 8B, V = 128,256, TP2, 64 rows: 64 x 64,128 x 4 B."""
    shape = load_model("llama3-8b")
    with_rows = workspace_bytes(shape, 2, 8192, 64)
    without = workspace_bytes(shape, 2, 8192, 0)
    assert with_rows - without == pytest.approx(64 * 128_256 / 2 * 4.0)  # 16,416,768 B


def test_a_tp_between_the_table_entries_takes_the_smaller_entry() -> None:
    """AIConfigurator's per-TP tables (trtllm_backend.py:42, systems/*.yaml misc.nccl_mem) list TP 1, 2, 4, 8; the
    module's rule: a TP between entries takes the smaller one. Dense Llama at TP3: the TP2 coefficient 6.5 and the
    TP2 NCCL buffer. 8,192 tokens x h 4,096: 2 x 8,192 x 4,096 x 6.5 B = 436.2 MB (TP4's 5.0 would give 335.5 MB)."""
    shape = load_model("llama3-8b")
    assert kv_pool_trtllm.activation_bytes(shape, 3, 8192) == pytest.approx(2.0 * 8192 * 4096 * 6.5)
    assert kv_pool_trtllm.reserve_bytes(3) == pytest.approx(358_612_992.0 + 3.5 * 2**30)
    assert kv_pool_trtllm.reserve_bytes(16) == pytest.approx(411_041_792.0 + 3.5 * 2**30)  # clamped to TP8


def _hybrid(full: int, sliding: int) -> TransformerShape:
    """The three fields the grouping reads (layer counts by attention type), on a stand-in shape."""
    return cast(TransformerShape, SimpleNamespace(num_layers=full + sliding, num_sliding_layers=sliding,
                                                  sliding_window=128))


def test_vllm_group_size_is_the_larger_count_only_strictly_under_one_and_a_half_times_the_smaller() -> None:
    """vLLM's hybrid KV cache groups (kv_cache_utils.py, cited in `serving.kv_pool_window`): group size = the larger
    layer count where it is UNDER 1.5x the smaller, else the smaller. 13 full + 12 sliding (GPT-OSS-20B + EAGLE, the
    docstring's case): 13 < 18, one group of 13 each (padded: 13/25 + 13/25). 12 full + 18 sliding: 18 is not under
    18, so groups of 12: full 12/30, sliding ceil(18/12) x 12 = 24 of 30 (padding layers)."""
    assert kv_pool_window.vllm_group_shares(_hybrid(13, 12)) == pytest.approx((13 / 25, 13 / 25))
    assert kv_pool_window.vllm_group_shares(_hybrid(12, 18)) == pytest.approx((12 / 30, 24 / 30))
