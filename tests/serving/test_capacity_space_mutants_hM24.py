"""Mutation wave hM24 (session 46) on what serve-plan varies beside TP / PP / batch (`serving.capacity_space`): the
drafts `draft_choices` returns and refuses, `draft_note`, and the wide-EP degrees, each checked against the model's
own config.json or a hand count of its expert bytes (no search run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.schemas import Accelerator
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.capacity_space import MTP_ACCEPTANCE, draft_choices, draft_note, wide_ep_degrees
from infraplan.serving.engines import load_engine

MODELS = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "models"


def _h200() -> Accelerator:
    return Cluster.resolve("hgx-h200").accelerator


def test_acceptance_with_try_speculative_is_the_mtp_drafts_acceptance() -> None:
    """--acceptance is allowed beside --try-speculative (it sets the MTP drafts' R); the search tries plain decoding
    first, then DeepSeek-R1's one MTP layer (config.json num_nextn_predict_layers: 1) at that R."""
    k = json.loads((MODELS / "deepseek-r1.json").read_text())["num_nextn_predict_layers"]
    got = draft_choices(load_model("deepseek-r1"), _h200(), load_engine(None), None, 0, 0.9, True)
    assert got == ((0, 0.0), (k, 0.9))
    assert draft_choices(load_model("deepseek-r1"), _h200(), load_engine(None), None, 0, None, True) == \
        ((0, 0.0), (k, MTP_ACCEPTANCE))


def test_try_speculative_drafts_as_many_tokens_as_the_model_has_mtp_layers(tmp_path: Path) -> None:
    """K is the model's own MTP depth: a DeepSeek-V3 copy with two next-token-prediction layers drafts 2 tokens."""
    config = json.loads((MODELS / "deepseek-v3.json").read_text())
    config["num_nextn_predict_layers"] = 2
    path = tmp_path / "dsv3-mtp2.json"
    path.write_text(json.dumps(config))
    got = draft_choices(load_model(str(path)), _h200(), load_engine(None), None, 0, None, True)
    assert got == ((0, 0.0), (2, MTP_ACCEPTANCE))


def test_draft_choices_itself_refuses_a_kv_dtype_the_engine_does_not_offer() -> None:
    """The docstring's contract: InputError, one line, for an unoffered KV dtype, before any candidate is built
    (vLLM's stack YAML offers no int8 KV cache, as `serve` says)."""
    with pytest.raises(InputError, match="has no int8 KV cache") as err:
        draft_choices(load_model("llama3-8b"), _h200(), load_engine("vllm-0.x"), "int8", 0, None, False)
    assert "\n" not in str(err.value)


def test_the_note_names_the_mtp_drafts_tried_and_is_empty_without_try_speculative() -> None:
    shape = load_model("deepseek-r1")
    assert draft_note(((1, 0.8),), (1, 0.8), shape) == []  # drafts given: nothing chosen, nothing to say
    assert draft_note(((0, 0.0),), (0, 0.0), shape) == []
    (line,) = draft_note(((0, 0.0), (1, 0.85)), (0, 0.0), shape)
    assert "as a 1-token draft (acceptance 0.85)" in line and "plain decoding chosen" in line


def _expert_bytes(name: str, bytes_per_param: float) -> float:
    """Routed-expert weights from config.json: MoE layers x experts x 3 matrices (gate, up, down) x hidden x the
    expert's intermediate size."""
    c = json.loads((MODELS / f"{name}.json").read_text())
    if "n_routed_experts" in c:  # DeepSeek: the first k layers dense, one MoE layer every moe_layer_freq after
        layers = (c["num_hidden_layers"] - c["first_k_dense_replace"]) // c["moe_layer_freq"]
        return layers * c["n_routed_experts"] * 3 * c["hidden_size"] * c["moe_intermediate_size"] * bytes_per_param
    return c["num_hidden_layers"] * c["num_local_experts"] * 3 * c["hidden_size"] * c["intermediate_size"] * \
        bytes_per_param


def test_wide_ep_on_h200_starts_where_the_expert_shard_fits() -> None:
    """DeepSeek-V3 fp8 on one 8-GPU H200 node: its routed experts are ~654 GB in fp8, so a quarter (EP 4) alone is
    beyond an H200's 141 GB and an eighth (EP 8) leaves room: the only wide-EP degree is 8."""
    acc = Cluster.resolve("hgx-h200").accelerator
    experts = _expert_bytes("deepseek-v3", 1.0)
    assert experts / 4 > acc.memory_bytes > experts / 8 + 30e9
    engine = load_engine(None)
    assert wide_ep_degrees(load_model("deepseek-v3"), acc, 8, "fp8", "fp8", engine.token_budget, 64,
                           engine.ref) == [8]


def test_wide_ep_degrees_stop_at_the_expert_count_not_the_domain() -> None:
    """Mixtral 8x7B (8 experts) in a 72-GPU NVLink domain: EP d puts E / d experts on a GPU, so d runs 2, 4, 8 (one
    expert a GPU) and no further although the domain allows 64; 1 is no wide EP. Every degree fits: the whole
    model's bf16 weights (~94 GB) fit one GB200 (186 GB)."""
    acc = Cluster.resolve("gb200-nvl72").accelerator
    shape = load_model("mixtral-8x7b")
    assert shape.num_experts == 8 and _expert_bytes("mixtral-8x7b", 2.0) < acc.memory_bytes / 1.5
    engine = load_engine(None)
    assert wide_ep_degrees(shape, acc, 72, "bf16", "fp8", engine.token_budget, 64, engine.ref) == [2, 4, 8]
