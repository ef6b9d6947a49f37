"""hJ71: SGLang's default chunked_prefill_size follows the GPU's memory, and so does the shipped profile's budget.

SGLang sets chunked_prefill_size from nvidia-smi's memory.total (0.5.6.post2 srt/server_args.py:752-833, 0.5.9
:935-996): 2048 below 35 GiB, 4096 below 60 GiB, 8192 below 160 GiB (H100, H200), 16384 from 160 GiB (B200, B300,
MI300X). The sglang-0.x profile states those tiers (`token_budget_by_memory_gib`), one function reads them
(`ServingEngine.budget_on`), and `serve`, `serve-plan` and the validation re-runs take the part's tier unless
--token-budget is given. Until hJ71 the profile ran 8192 on every GPU.
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.cluster import Cluster
from infraplan.serving.engines import changed_engine_settings, load_engine
from infraplan.serving.sglang_memory import default_chunked_prefill_tokens
from infraplan.validation import campaign_settings
from infraplan.validation.release_stacks import data_stack

GIB = 2.0**30
SERVE = ["serve", "llama3.1-8b", "--gpus", "1", "--tp", "1", "--dtype", "fp8", "--concurrency", "4",
         "--input-len", "500", "--output-len", "20", "--requests", "8", "--stack", "sglang-0.x"]


def test_tiers_are_the_source_s_at_every_boundary():
    sglang = load_engine("sglang-0.x")
    for gib, tokens in ((16, 2048), (34.99, 2048), (35, 4096), (59.99, 4096), (60, 8192), (80, 8192),
                        (159.99, 8192), (160, 16384), (180, 16384), (288, 16384)):
        assert sglang.budget_on(gib * GIB) == tokens, gib
        # the same tiers SGLang's fraction rule takes its chunk from (`serving.sglang_memory`)
        assert default_chunked_prefill_tokens(gib * 1024) == tokens, gib
    assert sglang.budget_on(0.0) == sglang.token_budget == 8192  # memory unknown: the profile's token_budget
    vllm = load_engine("vllm-0.x")  # no tiers: one budget on every GPU
    assert vllm.budget_on(180 * GIB) == vllm.budget_on(80 * GIB) == vllm.token_budget


def test_release_and_validation_profiles_read_the_tiers():
    # 0.5.1.post1: 8192 already from 35 GiB (server_args.py:405-415); the mixed-chunk profiles inherit 0.x's
    old = load_engine(str(data_stack("sglang-0.5.1.yaml")))
    assert (old.budget_on(40 * GIB), old.budget_on(80 * GIB), old.budget_on(180 * GIB)) == (8192, 8192, 16384)
    mixed = load_engine(str(data_stack("sglang-0.x-mixed-chunk.yaml")))
    assert mixed.token_budget_by_memory == load_engine("sglang-0.x").token_budget_by_memory != ()


def test_the_validation_chunk_is_the_profile_s():
    b200 = {"system": "b200_sxm"}
    h200 = {"system": "h200_sxm"}
    assert campaign_settings.sglang_chunked_prefill(b200, 1) == 16384
    assert campaign_settings.sglang_chunked_prefill(h200, 1) == 8192
    assert campaign_settings.sglang_chunked_prefill({}, 1234) == 1234  # no system: the caller's default


@pytest.mark.parametrize(("system", "budget"), [("hgx-h200", 8192), ("dgx-b200", 16384)])
def test_serve_takes_the_part_s_budget(capsys, system, budget):
    dep = cli_json(capsys, [*SERVE, "--system", system])["deployment"]
    assert dep["token_budget"] == budget


def test_a_budget_given_is_kept_and_said_against_the_part_s_default(capsys):
    dep = cli_json(capsys, [*SERVE, "--system", "dgx-b200", "--token-budget", "8192"])["deployment"]
    assert dep["token_budget"] == 8192
    b200 = Cluster.resolve("dgx-b200").accelerator.memory_bytes
    sglang = load_engine("sglang-0.x")
    assert changed_engine_settings(sglang, 256, 256, 8192, memory_bytes=b200) == [
        "--token-budget 8192 (default 16384)"]
    assert changed_engine_settings(sglang, 256, 256, 16384, memory_bytes=b200) == []


def test_serve_plan_deploys_the_part_s_budget(capsys):
    plan = cli_json(capsys, ["serve-plan", "llama3.1-8b", "--system", "dgx-b200", "--rate", "2", "--input-len", "2000",
                             "--output-len", "100", "--ttft-slo", "2", "--tpot-slo", "50ms", "--dtypes", "fp8",
                             "--stack", "sglang-0.x", "--max-gpus", "8", "--no-disaggregation", "--requests", "200"])
    assert plan["deployment"]["token_budget"] == 16384
