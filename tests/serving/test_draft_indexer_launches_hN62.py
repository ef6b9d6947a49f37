"""The DeepSeek-V3.2 draft (MTP) layer runs the lightning indexer as every target layer does (hN, session 62; hJ62's
S4): vLLM 0.12.0 builds its `mtp_block` as a DeepseekV2DecoderLayer with the top-k buffer, so its attention has an
`Indexer` and a cache of its own (deepseek_mtp.py:73-94, deepseek_v2.py:1036-1054, v1/spec_decode/eagle.py:960-982),
and the proposer runs that layer once per draft token (eagle.py:327, :411, :507); SGLang 0.5.6's nextn layer is a
DeepseekV2DecoderLayer whose NSA attention builds and calls the indexer (deepseek_v2.py:1252-1267, :1913), K forwards
a step (eagle_worker.py:303-306, :615-624). So a decode step with K draft tokens launches the indexer's decode call
(4 kernels since hQ62, vLLM deepseek_v2.py:603-764) 61 + K times and a prefill its prefill call (5), the draft layer
over the prompt included, 62 times."""

from __future__ import annotations

import dataclasses

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving.deployment import Deployment
from infraplan.serving.engine_kernels import attention_launch_s
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.sparse_decode import sparse_terms

CLUSTER = Cluster.resolve("hgx-h200")
SHAPE = load_model("deepseek-v3.2")
RATES = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
DEP = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x", max_batch=64, token_budget=8192)
LAYERS = 61
KERNELS, PREFILL_KERNELS = 5, 6  # a decode / prefill call (vLLM 0.12.0 deepseek_v2.py:603-764; hQ62; hC63's clean)


def _dep(k: int) -> Deployment:
    return dataclasses.replace(DEP, speculative_tokens=k, acceptance=0.8 if k else 0.0)


@pytest.mark.parametrize("k", [1, 3])
def test_the_draft_layer_launches_the_indexer_once_per_draft_token(k: int) -> None:
    # the caller's layer counts with K drafts (`serving.llm_iteration`): 61 + K forwards reading the cache, 62 over
    # the prompt
    terms = sparse_terms(SHAPE, CLUSTER.accelerator, RATES, _dep(k), LAYERS, LAYERS + k, LAYERS + 1)
    assert terms is not None
    launch = RATES.kernel_overhead_s
    assert terms.launches_s == pytest.approx(KERNELS * launch * (LAYERS + k), rel=1e-12)
    assert terms.prefill_launches_s == pytest.approx(PREFILL_KERNELS * launch * (LAYERS + 1), rel=1e-12)


def test_an_iterations_fixed_time_grows_by_the_draft_layers_indexer_launches() -> None:
    """Through the iteration cost: K = 2 draft tokens add 2 x 5 indexer launches to a decode step's fixed time and
    6 (the draft layer over the prompt) to a prefill's beyond what they add to DeepSeek-V3's (the same MLA layer
    without an indexer: its absorbed BMMs' fixed time grows with the 1 + K verified tokens alike, and the draft
    layer's attention op pays a target layer's fixed time, hC63: the prefill's the op's launches)."""
    launch = RATES.kernel_overhead_s
    grown = {}
    for name in ("deepseek-v3.2", "deepseek-v3"):
        plain, drafted = (build_iteration_cost(load_model(name), CLUSTER.accelerator, CLUSTER.fabric, _dep(k))
                          for k in (0, 2))
        grown[name] = (drafted.decode_fixed_s - plain.decode_fixed_s, drafted.prefill_fixed_s - plain.prefill_fixed_s)
    attention = attention_launch_s(SHAPE, RATES, DEP.engine, DEP.kv_dtype)  # the draft's prefill attention op
    assert grown["deepseek-v3"][1] == pytest.approx(attention, rel=1e-9)
    assert grown["deepseek-v3.2"][0] - grown["deepseek-v3"][0] == pytest.approx(2 * KERNELS * launch, rel=1e-9)
    assert grown["deepseek-v3.2"][1] == pytest.approx(attention + PREFILL_KERNELS * launch, rel=1e-9)
