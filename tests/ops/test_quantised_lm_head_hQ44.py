"""An LM head the checkpoint stores quantised (GPTQ / AWQ `lm_head: true`), priced as vLLM 0.18.0 runs it (hQ44).

vLLM gives such a head the Marlin W4A16 method of the other linears (quantization/utils/gptq_utils.py:135-153): its
weights are held at 4 bits and its GEMM reads them so, computing in bf16 at the weight-only rate. By hand (Llama 3
8B: vocab 128,256 x hidden 4,096 = 525.3 M head weights): 2 B -> 0.5 B is 0.788 GB less per GPU at TP 1; batch-1
decode reads a quarter of the head's bytes; a compute-bound head is no faster (the 0.47-of-bf16 weight-only rate).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.network.collectives import Fabric
from infraplan.ops import precision
from infraplan.ops.head import end_table_bytes
from infraplan.serving.deployment import weight_format
from infraplan.serving.kv_cache import weight_bytes_per_gpu
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

H100 = load_accelerator("h100-sxm")
FABRIC = Fabric.from_system(load_system("dgx-h100-superpod"), H100)
GPTQ = {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False, "sym": True}
HEAD = 128256 * 4096  # Llama 3 8B's LM head (and embedding) weights
W4 = 0.5 + 2.0 / 128  # GPTQ int4, sym, groups of 128: 4 bits and an fp16 scale per group (vLLM 0.18 gptq.py)


def _llama(head: bool):  # type: ignore[no-untyped-def]
    config, _ = read_entry("models", "llama3-8b")
    return shape_from_hf_config({**config, "quantization_config": {**GPTQ, "lm_head": head}}, f"gptq-{head}")


def test_end_tables_by_hand() -> None:
    shape = _llama(True)
    assert end_table_bytes(shape, 1, 1, 0.5) == pytest.approx(HEAD * (2.0 + 0.5), rel=1e-12)
    assert end_table_bytes(shape, 2, 1, 0.5) == pytest.approx(HEAD / 2 * (2.0 + 0.5), rel=1e-12)
    assert end_table_bytes(shape, 1, 2, 0.5) == pytest.approx(HEAD * 2.0, rel=1e-12)  # the first stage's embedding
    tied = shape.model_copy(update={"tied_embeddings": True})
    assert end_table_bytes(tied, 1, 1, 0.5) == pytest.approx(HEAD * 2.0, rel=1e-12)  # one bf16 table
    assert end_table_bytes(shape, 1, 1) == pytest.approx(HEAD * 4.0, rel=1e-12)  # both bf16: as before


def test_the_head_takes_the_stored_format_only_where_the_run_is_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = _llama(True)
    assert precision.head_dtype(shape, "int4") == "int4"
    assert precision.head_dtype(shape, "fp8") == "bf16"  # another format than stored: every layer at --dtype, head bf16
    assert precision.head_dtype(_llama(False), "int4") == "bf16"
    monkeypatch.setattr(precision, "CHECKPOINT_SCOPE", False)
    assert precision.head_dtype(shape, "int4") == "bf16"


def test_weights_per_gpu_hold_the_head_at_4_bits() -> None:
    head, plain = _llama(True), _llama(False)
    assert weight_bytes_per_gpu(plain, 1, 1, "int4") - weight_bytes_per_gpu(head, 1, 1, "int4") == pytest.approx(
        HEAD * (2.0 - W4), rel=1e-9)  # 0.788 GB
    assert weight_bytes_per_gpu(plain, 2, 1, "int4") - weight_bytes_per_gpu(head, 2, 1, "int4") == pytest.approx(
        HEAD / 2 * (2.0 - W4), rel=1e-9)
    assert weight_bytes_per_gpu(plain, 1, 2, "int4") == weight_bytes_per_gpu(head, 1, 2, "int4")
    assert weight_bytes_per_gpu(head, 1, 1, "bf16") == weight_bytes_per_gpu(plain, 1, 1, "bf16")


def test_decode_reads_fewer_head_bytes_and_a_compute_bound_head_is_no_faster() -> None:
    dep = Deployment(dtype="int4", engine="vllm", stack="vllm-0.x", token_budget=512, max_batch=256)
    quantised = build_iteration_cost(_llama(True), H100, FABRIC, dep)
    plain = build_iteration_cost(_llama(False), H100, FABRIC, dep)
    assert np.array_equal(quantised.body_s, plain.body_s)  # the layers are priced as before
    # batch-1 decode: the bf16 head reads 1.05 GB (~0.35 ms at 3.35 TB/s x 0.88); at 4 bits a quarter of it
    saved = plain.head_s[1] - quantised.head_s[1]
    assert 0.5 * HEAD * 1.5 / 3.35e12 < saved < 1.5 * HEAD * 1.5 / (0.5 * 3.35e12)
    # 512 rows: 2 x 512 x 525 M = 0.54 PFLOP, ~0.8 ms at 0.70 x 989 TFLOP/s vs 0.35 ms of bf16 reads: compute-bound,
    # where the weight-only kernel runs at 0.47 of the bf16 peak
    assert quantised.head_s[512] >= plain.head_s[512]


def test_the_weight_format_line_does_not_call_a_quantised_head_bf16() -> None:
    config, _ = read_entry("models", "llama3-8b")
    quant = {**GPTQ, "lm_head": True, "modules_to_not_convert": ["self_attn"]}  # attention kept in bf16
    head = shape_from_hf_config({**config, "quantization_config": quant}, "gptq-head-mlp")
    plain = shape_from_hf_config({**config, "quantization_config": {**quant, "lm_head": False}}, "gptq-mlp")
    said = weight_format(H100, "int4", head)
    assert "only:" in said and "LM head" not in said  # the head is stored and run at 4 bits
    assert "LM head in bf16" in weight_format(H100, "int4", plain)
