"""hS76: the serving engines' own limits.

- TensorRT-LLM at its default max_num_tokens (8,192) runs at most 8,192 // (1 + drafts) generating sequences an
  iteration: a --max-batch above it is priced as a batch of that many (`raised_budget.iteration_batch`), where until
  hS76 the budget was raised to the batch cap (all of it run each iteration).
- SGLang's chunked_prefill_size caps a prefill batch alone (`engines.chunk_budget`): the budget is no longer raised
  to the batch cap, so a prompt longer than the chunk takes ceil(prompt / chunk) prefill iterations at any cap.
- A pipelined prefill worker's stages hand their layers' KV over each on its own links (`kv_handoff.stage_pairs`):
  one that shares a domain with a decode worker hands it over NVLink.
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import load_model
from infraplan.catalog.loader import load_accelerator
from infraplan.errors import InputError
from infraplan.serving import engines
from infraplan.serving.deployment import check_deployment
from infraplan.serving.disaggregated import DisaggregatedDeployment
from infraplan.serving.engines import load_engine
from infraplan.serving.kv_handoff import inside_share, stage_domains, stage_pairs
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.raised_budget import iteration_batch, raised_budget_note

TRTLLM = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--tp", "1", "--stack", "trtllm-0.x",
          "--offline", "--input-len", "16", "--output-len", "16", "--requests", "20000", "--kv-dtype", "fp8"]


def test_trtllm_runs_max_num_tokens_sequences_an_iteration(capsys: pytest.CaptureFixture[str]) -> None:
    """--max-batch 16,384 at the default max_num_tokens 8,192: 8,192 sequences an iteration (one token each), the
    run of --max-batch 8192 to the bit; a launch giving the budget runs all 16,384 and more tokens a second (the
    weights' read shared by twice the rows); base: budget raised to 16,384, the last run's figures."""
    capped = cli_json(capsys, [*TRTLLM, "--max-batch", "16384"])
    dep = capped["deployment"]
    assert (dep["max_batch"], dep["token_budget"]) == (8192, 8192)
    eight = cli_json(capsys, [*TRTLLM, "--max-batch", "8192"])
    assert capped["output_tokens_per_s"] == eight["output_tokens_per_s"]
    assert capped["iterations"] == eight["iterations"]
    launched = cli_json(capsys, [*TRTLLM, "--max-batch", "16384", "--token-budget", "16384"])
    assert (launched["deployment"]["max_batch"], launched["deployment"]["token_budget"]) == (16384, 16384)
    assert launched["output_tokens_per_s"] > capped["output_tokens_per_s"]
    assert launched["iterations"] < capped["iterations"]
    said = [w for w in capped["warnings"] if w.startswith("--max-batch 16,384 is above")]
    assert len(said) == 1 and "so 8,192 sequences run an iteration" in said[0]
    assert "--max_num_tokens 16384" in said[0]
    assert not any("is above" in w for w in launched["warnings"] + eight["warnings"])


def test_draft_tokens_count_against_max_num_tokens() -> None:
    """Each generating sequence takes 1 + drafts tokens: 8,192 // (1 + 3) = 2,048 of a 4,096 cap; a given budget or
    another engine keeps the cap."""
    assert iteration_batch("trtllm", 4096, 8192, None, 3) == 2048
    assert iteration_batch("trtllm", 2048, 8192, None, 3) == 2048  # 2,048 x 4 = 8,192: within
    assert iteration_batch("trtllm", 2048, 8192, None, 4) == 1638  # 8,192 // 5
    assert iteration_batch("trtllm", 4096, 8192, 16384, 3) == 4096
    assert iteration_batch("vllm", 16384, 8192, None) == 16384
    note = raised_budget_note("trtllm", "trtllm-0.x", 8192, 4096, None, drafts=3) or ""
    assert "(1 + 3 draft tokens each)" in note and "so 2,048 sequences" in note and "--max_num_tokens 16384" in note
    assert raised_budget_note("trtllm", "trtllm-0.x", 8192, 2048, None, drafts=3) is None


def test_the_toggles_restore_the_raised_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    trt, sgl = load_engine("trtllm-0.x"), load_engine("sglang-0.x")
    b200 = load_accelerator("b200").memory_bytes
    assert trt.budget_of(None, 80e9, 1, 16384) == 8192
    assert sgl.budget_of(None, b200, 8, 4096) == 2048  # 16,384 // attention DP 8: the chunk, not the cap
    monkeypatch.setattr(engines, "TRTLLM_TOKEN_CAP", False)
    monkeypatch.setattr(engines, "SGLANG_CHUNK_BUDGET", False)
    assert trt.budget_of(None, 80e9, 1, 16384) == 16384
    assert iteration_batch("trtllm", 16384, 16384, None) == 16384
    assert sgl.budget_of(None, b200, 8, 4096) == 4096


def test_sglang_keeps_its_chunk_beside_a_larger_batch(capsys: pytest.CaptureFixture[str]) -> None:
    """A 16,000-token prompt, 3 output tokens, on H100 (chunk 8,192): 2 prefill chunks (8,192 + 7,808) and 2 decode
    iterations = 4 at --max-batch 16384 as at 8192; base: the budget raised to 16,384 ran the prompt in one, 3."""
    args = ["serve", "llama3.1-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--tp", "1", "--stack",
            "sglang-0.x", "--offline", "--input-len", "16000", "--output-len", "3", "--requests", "1"]
    big = cli_json(capsys, [*args, "--max-batch", "16384"])
    assert (big["deployment"]["max_batch"], big["deployment"]["token_budget"]) == (16384, 8192)
    assert big["iterations"] == 4
    assert big["duration_s"] == cli_json(capsys, [*args, "--max-batch", "8192"])["duration_s"]
    assert not any("is above" in w for w in big["warnings"])  # nothing raised, nothing capped


def test_a_budget_below_the_batch_is_refused_only_where_it_holds_the_decode_batch() -> None:
    shape = load_model("llama3-8b")
    h100 = load_accelerator("h100-sxm")
    check_deployment(shape, h100, Deployment(max_batch=512, token_budget=256, engine="sglang", stack="sglang-0.x"))
    with pytest.raises(InputError, match="--token-budget 256 must be >= --max-batch 512"):
        check_deployment(shape, h100, Deployment(max_batch=512, token_budget=256, engine="vllm", stack="vllm-0.x"))


def test_stage_pairs_by_hand() -> None:
    assert stage_pairs(3, 1) == [(0, 0), (1, 0), (2, 0)]  # a PP 1 decode worker takes every stage's layers
    assert stage_pairs(2, 2) == [(0, 0), (1, 1)]  # stage to stage (SGLang's equal PP)
    assert stage_pairs(3, 2) == [(0, 0), (1, 0), (1, 1), (2, 1)]  # layers 1/3..2/3 straddle the halves


def _pair(pre: tuple[int, int, int], dec: tuple[int, int, int]) -> DisaggregatedDeployment:
    (pt, pp, pn), (dt, dp, dn) = pre, dec
    return DisaggregatedDeployment(Deployment(tp=pt, pp=pp, replicas=pn, engine="vllm", stack="vllm-0.x"),
                                   Deployment(tp=dt, pp=dp, replicas=dn, engine="vllm", stack="vllm-0.x"))


@pytest.mark.parametrize(("pre", "dec", "share"), [
    ((2, 3, 1), (2, 1, 2), 0.5),  # P P P D | D: the PP 3 worker's stages all beside D0 (base: 0)
    ((2, 2, 3), (2, 2, 3), 1 / 9),  # P P | P D | D D in replicas: P2 and D0 share node 1, stage by stage
    ((2, 2, 2), (2, 2, 2), 0.0),  # P P | D D
    ((2, 3, 2), (2, 1, 2), 0.25),  # P0 | P1 D0 | D1: P1 would straddle slots 3-5, so it starts node 1
    ((2, 2, 2), (6, 1, 2), 0.0),  # two group sizes with PP > 1: held apart
])
def test_the_share_of_pipelined_hand_offs_inside_a_domain_by_hand(pre: tuple[int, int, int],
                                                                 dec: tuple[int, int, int], share: float) -> None:
    assert inside_share(_pair(pre, dec), 8) == pytest.approx(share)


def test_stage_domains_follow_the_held_placement() -> None:
    pair = _pair((2, 3, 2), (2, 1, 2))
    # slots of 2 GPUs, 4 a node: P0 0-2 (node 0), P1 4-6 (node 1: 3-5 would straddle), D0 slot 7 (node 1), D1 8
    assert stage_domains((pair.prefill, pair.decode), 8) == [[(0, 0, 0), (1, 1, 1)], [(1,), (2,)]]
