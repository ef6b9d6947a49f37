"""MLA's absorbed W_UK / W_UV batched GEMMs in the decode phase, at the serving engine's measured kernel cost.

At decode, multi-head latent attention absorbs the key up projection into the query and the value up projection
after the attention (DeepSeek-V2, arXiv:2405.04434 sec. 2.1.2): per local head a (tokens x kv_lora x nope) GEMM
before the latent attention and a (tokens x v x kv_lora) GEMM after it, each batched over the heads in one kernel
(`ops.layer` roles `q_absorb` / `v_absorb`, priced for every token by `hardware.kernels.grouped_gemm_time`: one
launch and the heads' weight read at small M). TensorRT-LLM runs them in its generation (decode) phase as
`fp8_block_scaling_bmm_out` for block-fp8 checkpoints (the op NVIDIA AIConfigurator 0.12.0 prices there:
aiconfigurator_core/sdk/models/deepseek.py:206-212, the BMM dtype follows the kv_b projection's; the
`generation_bmm_pre` / `generation_bmm_post` ops :377-406 and :833-850), and its context (prefill) phase does not
absorb: it up-projects the new tokens' latent and runs the context FMHA over decompressed heads. So only decode rows
run these BMMs at the measured cost; prefill tokens keep the grouped-GEMM pricing of `ops.layer`'s records.

Measured kernel (`MEASURED_ABSORB_BMM`; the accelerator's `mla_absorb_bmm[engine][BMM dtype]`: TensorRT-LLM fp8 and
bf16, vLLM and SGLang bf16, on H100 / H200; "Which dtype" below). AIConfigurator-core 0.12.0's
systems/data/{h100_sxm,h200_sxm}/mla_bmm/trtllm/1.3.0rc20/mla_bmm_perf.parquet, fp8, both BMMs pooled over 1-128 local
heads and 1-1,024 tokens (304 rows): one BMM per layer t = fixed_s + head_s x heads + token_head_s x tokens x heads,
H200 6.64 us + 47.0 ns + 1.225 ns (mean |error| 7.6 %), H100 6.82 us + 45.1 ns + 1.229 ns (7.5 %). TensorRT-LLM
1.2.0rc5's table (AIConfigurator 0.7.0 wheel, the nearest measured release to the disaggregated rows' 1.2.0rc6.post1)
gives 6.76 us, 47.2 ns, 1.243 ns on H200, within 2 %: one fit per accelerator, no release field. Against the
grouped-GEMM roofline (one 4 us launch and 1 MiB of fp8 weights per BMM at 16 heads): 7.5 / 7.8 us measured vs ~4 us
at TP8 and 4 tokens, 21.7 / 22.1 us vs ~7.5 us at 128 heads and 64 tokens (attention DP). The measured op holds the
activation quantisation and the block-scale handling the grouped-GEMM roofline does not price.

Decode rows apart from prefill tokens. The iteration's body table is indexed by all its tokens
(`serving.llm_iteration`), so the rule adds the difference measured - roofline for the decode rows d: per layer and BMM
delta(d) = fit(d x (1 + K) tokens) - grouped_gemm(d x (1 + K)) (K speculative tokens verified per row), split into
delta(1), added to `decode_fixed_s` (paid once by an iteration with any decode row), and delta(d) - delta(1), added to
the head table at d rows. A decode-only iteration pays exactly fit(d); a prefill-only iteration that samples one row
pays nothing more. ASSUMPTIONS: a mixed iteration prices its prefill tokens' BMMs at grouped(p + d) - grouped(d)
instead of grouped(p) (at most one roofline BMM per layer, ~0.5 ms over 61 layers, against chunked-prefill iterations
of ~100 ms and more), and prompts that finish their prefill in an iteration count as rows of the head table (as the
MLA decode kernel's per-row term does); an MTP draft layer keeps the roofline.

Which dtype (`bmm_dtype`). TensorRT-LLM: the kv_b projection's, fp8 for block-fp8 checkpoints (AIConfigurator's rule
above; the 1.3.0rc20 table's kernels `trtllm_fp8_block_scaling_bmm_out` / `trtllm_bmm_out`). vLLM 0.12.0: bf16 whatever
the checkpoint ("we currently do not have quantized bmm's ... perform the bmm's in 16-bit": the kv_b weight is
dequantised at load, vllm/v1/attention/backends/mla/common.py:1153-1170; decode `torch.bmm` :2024 and :1253; prefill
up-projects through kv_b_proj, :1832). SGLang: bf16, DeepSeek's 128 x 128 block-fp8 kv_b dequantised at load
(`serving.engine_kernels`; its fp8 `bmm_fp8` table, 7.46 us + 3.9 ns + 1.695 ns, is for other checkpoints). The bf16
fits (1,024 tokens at most; H200 / H100): TensorRT-LLM 4.42 / 4.09 us + 5.5 / 9.3 ns + 0.288 / 0.365 ns (mean |error|
7.8 %), SGLang 0.5.14 `torch.bmm` 4.02 / 3.99 us + 8.9 / 9.4 ns + 0.296 / 0.361 ns (7.4 / 8.4 %), vLLM 0.24.0 4.14 /
4.07 us + 8.8 / 12.2 ns + 0.301 / 0.355 ns (6.3 / 10.2 %): within ~0.2 us of the bf16 roofline at 8-16 heads (TP8),
~2.4 us under it at 128 heads and 64 tokens (attention DP: 7.6 us measured, 9.9 roofline). ASSUMPTIONS: vLLM 0.16's
MLA path as 0.12.0's; SGLang's prefill skips the absorbed BMMs too (its MHA path for prompts without a cached prefix).
A checkpoint whose quantization_config keeps attention in bf16 (`ops.precision.weight_scope`; Kimi K2.5 INT4's
`self_attn` ignored) has a bf16 kv_b projection: its BMMs are the bf16 ones on any engine (`ops.precision.kind_dtype`).

Effect (toggle, one tree; mean |error|, every row, repeats once): Hopper disaggregated 15.87 -> 15.19 % (TTFT 24.50 ->
24.57, TPOT 7.25 -> 5.82; TP8 decode step at 4 sequences, 1.5k context 12.26 -> 12.65 ms, measured 13.39), sample
17.49 -> 17.08 %; MoE/MLA 15.48 -> 15.56 % (TensorRT-LLM DeepSeek TPOT, already above the measurements, 28.8 -> 31.6
and 12.8 -> 14.5 %; SGLang DeepSeek and vLLM Kimi K2.5 -0.1 point), sample 15.77 -> 15.86 %; dense Hopper, MLPerf
unchanged (validation/notes/trtllm_deepseek_tried.md, round 13).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from infraplan.catalog.kernel_fits import MlaBmmFit
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.ops.layer import Gemm, layer_ops
from infraplan.ops.precision import kind_dtype
from infraplan.serving.deployment import Deployment
from infraplan.serving.host_overhead import inference_layout

MEASURED_ABSORB_BMM = True  # decode rows' absorbed BMMs at the engine's measured kernel (module docstring; toggle)
ABSORB_ROLES = ("q_absorb", "v_absorb")  # the `ops.layer` roles of the two absorbed BMMs


def bmm_dtype(engine: str, dtype: str) -> str | None:
    """The dtype the engine runs the absorbed BMMs in for a checkpoint served in `dtype` (module docstring, "Which
    dtype"): TensorRT-LLM the kv_b projection's (fp8 or bf16), vLLM and SGLang bf16; None where no source says."""
    if engine == "trtllm":
        return dtype if dtype in ("bf16", "fp8") else None
    return "bf16" if engine in ("vllm", "sglang") else None


def measured_fit(shape: TransformerShape, accelerator: Accelerator, engine: str, dtype: str) -> MlaBmmFit | None:
    """The engine's measured absorbed-MLA BMM for a `dtype` checkpoint (the accelerator's `mla_absorb_bmm` at the
    engine's `bmm_dtype`), or None: not MLA, not measured, or toggled off."""
    bmm = bmm_dtype(engine, dtype)
    if not (MEASURED_ABSORB_BMM and shape.is_mla) or bmm is None:
        return None
    fits = accelerator.efficiency.mla_absorb_bmm or {}
    return fits.get(engine, {}).get(bmm)  # type: ignore[call-overload, no-any-return]


def decode_terms(shape: TransformerShape, accelerator: Accelerator, dep: Deployment, layers: float, rows: np.ndarray,
                 roofline: Callable[[Gemm], np.ndarray]) -> tuple[float, np.ndarray]:
    """(seconds added to every iteration with a decode row, seconds added per decode-row count `rows`) that pricing the
    decode rows' absorbed BMMs at the measured kernel instead of `roofline` (the caller's pricing of a `Gemm` record
    of the layer table, seconds per layer) adds over `layers` layers (module docstring, "Decode rows apart"); zeros
    where the engine has no measured kernel."""
    fit = measured_fit(shape, accelerator, dep.engine, kind_dtype(shape, dep.dtype, "attention"))  # kv_b's format
    if fit is None or len(rows) < 2:
        return 0.0, np.zeros_like(rows)
    tokens = rows * (1 + dep.speculative_tokens)
    ops = layer_ops(shape, inference_layout(dep.tp, dep.ep, dep.attention_dp, tokens, dep.moe_tp))
    delta = np.zeros_like(rows)
    for g in ops.gemms:
        if g.role in ABSORB_ROLES:
            heads = np.asarray(g.count, dtype=np.float64)
            measured = g.share * (fit.fixed_s + fit.head_s * heads + fit.token_head_s * tokens * heads)
            delta = delta + layers * (measured - roofline(g))
    delta = np.where(rows > 0, delta, 0.0)
    fixed = float(delta[1])
    return fixed, np.where(rows > 0, delta - fixed, 0.0)
