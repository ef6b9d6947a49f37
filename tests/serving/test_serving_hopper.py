"""The measured Hopper serving set (AIConfigurator silicon sample) in closed-loop mode, against its gate and the
naive roofline baseline fitted to the set itself."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.validation import serving_hopper as sh


@pytest.fixture(scope="module")
def report():
    return sh.run_serving_hopper_validation()


def test_every_published_row_is_run_or_listed_as_awaiting(report):
    s = report["summary"]
    # rows in shared/reference/data/serving_measured_hopper.csv: dense + MoE/MLA set (validation/serving_hopper_moe) +
    # rows neither set expresses (tests/validation/test_serving_awaiting.py)
    assert s["rows"] + 815 + s["awaiting_rows"] == 1884
    assert s["rows"] == 778
    reasons = {r["reason"] for r in s["awaiting"]}
    assert all(r.startswith("disaggregated") for r in reasons)
    assert any(r["model_path"] == "deepseek-ai/DeepSeek-V3" for r in s["awaiting"])


def test_rows_run_by_backend_and_version(report):
    ids = " ".join(c["id"] for c in report["cases"])
    for stack in ("trtllm-1.0.0rc3", "vllm-0.12.0", "sglang-0.5.6.post2"):
        assert stack in ids
    dep = sh.row_deployment({"precision": "", "backend": "vllm", "backend_version": "0.12.0", "batch_size": "8",
                             "tp_size": "2", "pp_size": "1"})
    assert dep.engine == "vllm" and dep.stack == "vllm-0.x"
    crowd = sh.row_deployment({"precision": "", "backend": "vllm", "backend_version": "0.12.0",
                               "batch_size": "2000", "tp_size": "2", "pp_size": "1"})
    assert crowd.max_batch == 1024  # vLLM's max_num_seqs caps the batch; the other clients queue


def test_the_model_beats_the_fitted_roofline(report):
    s = report["summary"]
    assert s["beats_baseline"] and s["mean_abs_error"] < s["baseline_mean_abs_error"]
    assert s["mean_abs_error_tpot"] < 0.2  # decode, the memory-bound phase, is the well-modelled one


def test_fitted_scale_minimises_the_mean_abs_error():
    rng = np.random.default_rng(1)
    work, measured = rng.uniform(1, 10, 50), rng.uniform(1, 10, 50)
    best = sh.fitted_scale(work, measured)
    err = lambda s: np.mean(np.abs(s * work / measured - 1.0))  # noqa: E731
    assert all(err(best) <= err(best * f) + 1e-12 for f in (0.9, 0.99, 1.01, 1.1))


@pytest.mark.xfail(strict=True, reason="measured: mean |error| 37 % (TTFT 59 %, TPOT 15 %) vs the 12 % gate "
                   "(vLLM rows 53 %, TensorRT-LLM 26 %, SGLang 43 %; on-demand KV admission with recompute "
                   "preemption took vLLM from 59 % and the worst row, Llama-70B fp8 1024/8192 x 64 on one H200, "
                   "from 149 s to 16 s TTFT vs 5.3 s measured); TTFT: the drift of closed-loop clients apart under "
                   "mixed schedulers (vLLM, TRT-LLM) is not modelled; SGLang's prefill-first waves are "
                   "(Qwen3 TP2-8 TTFT 9-14 %)")
def test_serving_gate(report):
    assert report["summary"]["mean_abs_error"] <= sh.GATE_MEAN_ERROR
