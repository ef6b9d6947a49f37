"""fp8 activation casts a stack runs in kernels of their own (`serving.engine_kernels`, the stack's `activation_quant`):
the launches and the bytes (a bf16 read and an fp8 write per input element), and which stack runs which rule."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.serving_profile import ServingProfile
from infraplan.hardware.kernels import KernelRates, memory_bound_time
from infraplan.ops.layer import Elementwise
from infraplan.serving import engine_facts, engine_kernels
from infraplan.serving.deployment import Deployment
from infraplan.validation.inference import case_stack
from infraplan.validation.inference_frontier import load_frontier_cases

ROCM = "vllm-0.9-rocm.yaml"


def test_each_shipped_family_states_its_rule_and_a_user_yaml_takes_its_familys():
    assert {e: engine_facts.family_quant(e) for e in ("trtllm", "vllm", "sglang")} == {
        "trtllm": "fused", "vllm": "attention_output", "sglang": "every_linear"}
    bare = ServingProfile(engine="sglang", kv_convention="static_of_total", kv_memory_fraction=0.9, offline_max_batch=8)
    assert engine_facts.activation_quant(bare) == "every_linear"
    assert engine_facts.activation_quant(bare.model_copy(update={"activation_quant": "fused"})) == "fused"


def test_vllm_0_9_casts_every_fp8_linears_input_by_hand_count():
    """Llama 2 70B at TP1: QKV and gate/up read h = 8,192 each, the output projection its 64 x 128 heads, down the
    28,672 FFN width; vLLM 0.12 casts the output projection's input only (the others fused by Inductor)."""
    llama = load_model("llama2-70b")
    stack = case_stack({"stack": ROCM})
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "fp8", stack) == 4.0
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "fp8", "vllm-0.x") == 1.0
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "bf16", stack) == 0.0  # nothing to quantise
    # another family's stack (a Deployment's default trtllm-0.x under engine vllm): the engine family's own rule
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "fp8", "trtllm-0.x") == 1.0


@pytest.mark.parametrize("stack, elements", [(ROCM, 2 * 8192 + 8192 + 28672), ("vllm-0.x", 8192)])
def test_the_casts_bytes_are_priced_as_a_memory_pass(stack, elements, monkeypatch):
    """With the bytes on, the body grows by tokens x elements x (2 + 1) B at the memory rate, launches unchanged."""
    mi300x, llama = load_accelerator("mi300x"), load_model("llama2-70b")
    rates = KernelRates.for_dtype(mi300x, "bf16")
    path = case_stack({"stack": stack}) or stack
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", engine="vllm", stack=path)
    tokens = np.array([1.0, 64.0, 4096.0])
    unused = Elementwise("x", tokens, 6.0)

    def body() -> np.ndarray:
        return engine_kernels.elementwise_time(llama, rates, dep, tokens, unused)

    on = body()
    monkeypatch.setattr(engine_kernels, "QUANT_BYTES", False)
    off = body()
    assert on - off == pytest.approx(tokens * elements * 3.0 / rates.memory_bytes_per_s, rel=1e-9)


def test_the_mi300x_rows_run_the_release_they_name():
    """MLPerf v5.1's AMD rows ran vLLM 0.9.0.2 (their `source`); every other row another stack."""
    for case in load_frontier_cases()["cases"]:
        assert (case_stack(case) or "").endswith(ROCM) == ("vLLM 0.9." in case["source"]), case["id"]


# NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0) systems/data/h200_sxm/quantize/vllm/0.24.0/
# scale_matrix_perf.parquet (kernel_source static_scaled_fp8_quant: vLLM's per-tensor static cast): (M, K, us)
H200_VLLM_STATIC_CAST = [(8, 4096, 2.10), (8, 8192, 2.45), (256, 8192, 3.02), (1024, 8192, 5.61),
                         (4096, 8192, 26.18), (8192, 8192, 49.24), (16384, 8192, 95.19), (16384, 4096, 48.67)]


def test_a_cast_priced_as_one_memory_pass_matches_vllms_measured_kernel_on_h200():
    """Bytes-bound (M K >= 2^25): 3 B an element at the H200's memory rate is within 8 % of the measured kernel. Few
    rows: the catalog's 4 us launch prices it 1.6-1.9x the measured 2.1-3.0 us (a graph-replayed launch is shorter;
    not refitted here: every element-wise launch of the layer pays the same figure)."""
    rates = KernelRates.for_dtype(load_accelerator("h200"), "bf16")
    for m, k, us in H200_VLLM_STATIC_CAST:
        model_us = float(memory_bound_time(rates, m * k * 3.0, kernels=1.0)) * 1e6
        if m * k >= 1 << 25:
            assert model_us == pytest.approx(us, rel=0.08), (m, k)
        else:
            assert us < model_us < 2.0 * us, (m, k)
