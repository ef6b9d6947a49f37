"""Distinct nodes a token's routed experts live on: balanced top-k and DeepSeek group-limited routing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import ModelConfigWarning, TransformerShape
from infraplan.errors import InputError
from infraplan.ops.expert_routing import expected_nodes_per_token, node_hit_probability


def routed_experts(experts: int, k: int, groups: int = 1, chosen: int = 1, seed: int = 0,
                   tokens: int = 20000) -> np.ndarray:
    """(tokens, k) experts each token picks under the DeepSeek-V3 router with i.i.d. scores (seeded).

    HF `DeepseekV3MoE` / Megatron `group_limited_topk`: group score = sum of the group's top (k / M) scores,
    keep the M best groups, top-k experts among them (groups = chosen = 1: plain top-k).
    """
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((tokens, experts))
    per_group = experts // groups
    group_score = np.sort(scores.reshape(tokens, groups, per_group), axis=-1)[:, :, -(k // chosen):].sum(-1)
    kept = np.zeros((tokens, groups), dtype=bool)
    np.put_along_axis(kept, np.argsort(-group_score, axis=1)[:, :chosen], True, axis=1)
    masked = np.where(np.repeat(kept, per_group, axis=1), scores, -np.inf)
    return np.argsort(-masked, axis=1)[:, :k]


def _sampled_nodes(experts: int, k: int, nodes: int, groups: int = 1, chosen: int = 1, seed: int = 0,
                   tokens: int = 20000) -> float:
    """Mean distinct nodes per token under the DeepSeek-V3 router (`routed_experts`), experts laid out
    contiguously, E / N per node."""
    node_of = routed_experts(experts, k, groups, chosen, seed, tokens) // (experts // nodes)
    return float(np.mean([len(set(row)) for row in node_of.tolist()]))


@pytest.mark.parametrize("nodes", [2, 4, 8, 16, 32])
def test_deepseek_v3_group_limited_routing_matches_the_sampled_router(nodes: int) -> None:
    shape = load_model("deepseek-v3")  # 256 experts in 8 groups, top-8 from 4 groups
    assert (shape.expert_groups, shape.expert_groups_per_token) == (8, 4)
    expected = float(expected_nodes_per_token(shape, nodes))
    assert expected == pytest.approx(_sampled_nodes(256, 8, nodes, 8, 4, seed=nodes), rel=0.015)


def test_groups_on_nodes_cap_a_token_at_topk_group_nodes() -> None:
    shape = load_model("deepseek-v3")
    # EP64 over 8 H800 nodes, one group per node (DeepSeek-V3 sec. 3.2.2): at most 4 nodes, ~4 in practice
    assert float(expected_nodes_per_token(shape, 8)) == pytest.approx(4.0, abs=1e-9)
    ungrouped = shape.model_copy(update={"expert_groups": 1, "expert_groups_per_token": 1})
    assert float(expected_nodes_per_token(ungrouped, 8)) == pytest.approx(_sampled_nodes(256, 8, 8), rel=0.015)
    assert float(expected_nodes_per_token(ungrouped, 8)) > 5.2  # unrestricted top-8 reaches 5.3 of 8 nodes
    # misaligned layouts (12 nodes for 8 groups) fall back to the unrestricted bound; one node is always 1
    assert float(node_hit_probability(shape, 12)) == pytest.approx(float(node_hit_probability(ungrouped, 12)))
    assert float(expected_nodes_per_token(shape, 1)) == 1.0


def test_configs_read_groups_only_when_the_method_limits_them() -> None:
    dsv3 = load_model("deepseek-v3")
    config = {"model_type": "deepseek_v3", "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
              "vocab_size": 32000, "n_routed_experts": 64, "num_experts_per_tok": 6, "moe_intermediate_size": 256,
              "n_group": 8, "topk_group": 3, "first_k_dense_replace": 0, "n_shared_experts": 0}  # (hH64: stated, not
    # DeepseekV3Config's defaults 3 and 1, which a file without them is now priced at, in a warning)
    from infraplan.catalog.model_config import shape_from_hf_config
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        v2 = shape_from_hf_config({**config, "topk_method": "group_limited_greedy"}, "v2-like")
        lite = shape_from_hf_config({**config, "topk_method": "greedy"}, "v2-lite-like")
    assert v2.is_group_limited and (v2.expert_groups, v2.expert_groups_per_token) == (8, 3)
    assert not lite.is_group_limited  # greedy top-k ignores the groups
    assert not load_model("kimi-k2").is_group_limited  # n_group 1
    assert dsv3.is_group_limited and not any(kind.is_group_limited for kind, _ in dsv3.layer_kinds()[1:])
    with pytest.raises(InputError, match="n_group"):
        shape_from_hf_config({**config, "n_group": 7}, "bad-groups")
    with pytest.raises(ValueError):
        TransformerShape.model_validate({**dsv3.model_dump(), "expert_groups_per_token": 9})
