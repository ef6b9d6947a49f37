"""A speculative deployment's head table is built once a cost (hR67): `speculative.verified_row_s` (the part a prompt
row does not pay, hC67) reads the `decode_head` table `build_iteration_cost` already built instead of building it
again from the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import speculative
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost

H200 = Cluster.resolve("hgx-h200")


@pytest.mark.parametrize(("engine", "stack"), [("vllm", "vllm-0.x"), ("sglang", "sglang-0.x")])
def test_the_decode_head_is_built_once(monkeypatch: pytest.MonkeyPatch, engine: str, stack: str) -> None:
    built: list[int] = []
    real = speculative.decode_head

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(speculative, "decode_head", counted)
    dep = Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="bf16", engine=engine, stack=stack, max_batch=64,
                     token_budget=8192, speculative_tokens=2, acceptance=0.85)
    cost = build_iteration_cost(load_model("deepseek-r1"), H200.accelerator, H200.fabric, dep)
    assert built == [1]  # (two before: `verified_row_s` built the same table again)
    assert cost.decode_row_s is not None  # the prompt rows' unverified part is priced (`PROMPT_ROW_ENGINES`)


def test_the_verified_part_is_the_given_table_less_a_prompt_rows_price() -> None:
    dep = Deployment(tp=1, engine="vllm", stack="vllm-0.x", max_batch=2, speculative_tokens=3, acceptance=0.85)
    head, draft = np.arange(5.0) + 1.0, np.arange(5.0) * 10.0 + 7.0  # per row count 0 .. 2 max_batch
    spec = np.full(5, 1000.0)
    got = speculative.verified_row_s(dep, spec, head, draft)
    # vLLM: r prompt rows pay the target's and the draft's sampled rows and K - 1 = 2 further draft steps
    r = np.arange(5)
    assert got is not None
    assert np.array_equal(got, np.where(r > 0, 1000.0 - (2.0 * head + 2.0 * (draft + head)), 0.0))
    trtllm = Deployment(tp=1, engine="trtllm", stack="trtllm-0.x", max_batch=2, speculative_tokens=3, acceptance=0.85)
    assert speculative.verified_row_s(trtllm, spec, head, draft) is None  # its prompt rows pay a decode row's whole
