"""The measured Hopper serving set (AIConfigurator silicon sample) in closed-loop mode, against its gate and the
naive roofline baseline fitted to the set itself."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.errors import InputError
from infraplan.serving.engines import load_engine
from infraplan.serving.workloads import fixed_requests
from infraplan.validation import serving_hopper as sh


@pytest.fixture(scope="module")
def report():
    return sh.run_serving_hopper_validation()


def test_every_published_row_is_run_or_listed_as_awaiting(report):
    s = report["summary"]
    # rows in shared/reference/data/serving_measured_hopper.csv: dense + MoE/MLA set (validation/serving_hopper_moe) +
    # disaggregated set (validation/serving_hopper_disagg) + rows no set expresses (test_serving_awaiting.py)
    assert s["rows"] + 815 + 291 + s["awaiting_rows"] == 1884
    assert s["rows"] == 778
    assert s["awaiting_rows"] == 0 and not s["awaiting"]


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


@pytest.mark.xfail(strict=True, reason="measured: mean |error| 28 % (TTFT 41 %, TPOT 15 %) vs the 12 % gate, from "
                   "37 % before early end-of-sequence stops desynchronised the clients and the stacks' front-end "
                   "time joined TTFT; left: SGLang 0.5.6 Llama 8B host-bound decode (TTFT +69 %, TPOT -36 % median), "
                   "vLLM 0.12 Llama 8B TPOT +87 %, TensorRT-LLM front-end time that differs by campaign "
                   "(serving_hopper.KNOWN_GAP)")
def test_serving_gate(report):
    assert report["summary"]["mean_abs_error"] <= sh.GATE_MEAN_ERROR


def test_early_stop_draws_geometric_output_lengths_capped_at_the_osl():
    plain = fixed_requests(1000, 1024, 8192, None, 0)
    assert (plain.output_tokens == 8192).all()
    a, b = (fixed_requests(20000, 1024, 8192, None, 3, stop_per_token=1e-4) for _ in range(2))
    assert np.array_equal(a.output_tokens, b.output_tokens)  # same seed, same lengths
    assert (a.input_tokens == 1024).all() and a.output_tokens.min() >= 1 and a.output_tokens.max() == 8192
    # P(no end-of-sequence in 8192 tokens) = (1 - 1e-4)^8192 = 0.44; a 1024-token output runs to the end 90 %
    assert abs(np.mean(a.output_tokens == 8192) - (1 - 1e-4) ** 8192) < 0.02
    short = fixed_requests(20000, 1024, 1024, None, 3, stop_per_token=1e-4)
    assert abs(np.mean(short.output_tokens == 1024) - (1 - 1e-4) ** 1024) < 0.01
    with pytest.raises(InputError, match="end-of-sequence"):
        fixed_requests(10, 1, 1, None, 0, stop_per_token=1.0)


def _row(osl: int, clients: int) -> dict[str, str]:
    """A TensorRT-LLM (unversioned) Llama-3.1-70B fp8 row of the set on one H200, ISL 1024."""
    return {"id": "t", "model_path": "meta-llama/Llama-3.1-70B", "system": "h200_sxm", "precision": "fp8",
            "backend": "trtllm", "backend_version": "", "isl": "1024", "osl": str(osl), "batch_size": str(clients),
            "tp_size": "1", "pp_size": "1"}


def test_early_stops_desynchronise_long_outputs_and_not_lock_step(monkeypatch):
    # measured (AIConfigurator, 8 clients): TTFT 634 ms at OSL 1024, 221 ms at OSL 8192; clients of fixed lengths
    # stay in lock-step waves and the OSL changes nothing
    monkeypatch.setattr(sh, "FRONT_END", False)
    monkeypatch.setattr(sh, "STOP_PER_TOKEN", 0.0)
    lock = [sh.run_row(_row(osl, 8))["ttft_s"] for osl in (1024, 8192)]
    assert lock[1] == pytest.approx(lock[0], rel=0.02)
    monkeypatch.setattr(sh, "STOP_PER_TOKEN", 1e-4)
    short, long = (sh.run_row(_row(osl, 8))["ttft_s"] for osl in (1024, 8192))
    assert long < 0.75 * short and short <= lock[0]


def test_front_end_time_is_a_stack_property_added_to_ttft(monkeypatch):
    assert load_engine("trtllm-1.0.0rc3").request_latency_s == pytest.approx(0.12)
    assert load_engine("vllm-0.12.0").request_latency_s == pytest.approx(0.03)
    assert load_engine("sglang").request_latency_s == pytest.approx(0.20)
    with_it = sh.run_row(_row(1024, 4))
    monkeypatch.setattr(sh, "FRONT_END", False)
    without = sh.run_row(_row(1024, 4))
    assert with_it["ttft_s"] - without["ttft_s"] == pytest.approx(0.12)
    assert with_it["tpot_s"] == without["tpot_s"]
