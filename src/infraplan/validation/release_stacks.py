"""The stack YAML each measured serving row's engine release runs: one mapping for every Hopper serving set.

A row names its backend and version (`row_stack`: `vllm-0.12.0`; version unknown: `trtllm`). Where a release's
defaults or measured kernels differ from its family's shipped profile (catalog/stacks/<family>-0.x.yaml), the row
runs that release's YAML in validation/data/stacks/ (`RELEASE_STACKS`, `release_stack`); the dense
(`serving_hopper`), MoE / MLA (`serving_hopper_moe`) and disaggregated (`serving_hopper_disagg`) sets read this one
mapping. Rows served through AIConfigurator's Dynamo harness run the generator template's KV fraction (0.80) first
(`DYNAMO_TRTLLM_STACK`, by release `DYNAMO_TRTLLM_RELEASE_STACKS`; `serving_hopper` docstring, `DYNAMO_TRTLLM_KV`).

SGLang 0.5.1.post1: its mem_fraction_static rule and CUDA-graph capture list (`serving.sglang_memory`). vLLM 0.12.0:
DeepGEMM's MoE computes its padded workspace (`serving.deepgemm_moe`) and its measured decode attention. vLLM 0.16.0
/ 0.18.0: async scheduling by default (`serving.request_intake`); the Blackwell set's 0.15.1 and 0.19.0 too, read in
their wheels (session 53, hB): `SchedulerConfig.async_scheduling` default None, resolved to True unless a non-EAGLE
drafter or an executor without support (vllm 0.15.1 config/vllm.py:589-622, 0.19.0 :755-788), two batches in flight
on the `mp` / `uni` executors (0.15.1 v1/executor/multiproc_executor.py:431-434, uniproc_executor.py:59-60; 0.19.0
:469-472, :64-65); 0.17.0, between two such releases, was mapped by reading (hB70).

SGLang rows run with AIConfigurator's generated flags (`mixed_chunk_stack`; `serving_hopper.row_deployment`): the
mixed-chunk profile, by release with its measured GEMM rates (`SGLANG_MIXED_CHUNK_RELEASE_STACKS`, hD53: AIConfigurator
0.7.0's sglang/0.5.6.post2 (H100 / H200) and 0.5.8.post1 (H100) gemm_perf tables, the YAMLs' headers). Not mapped:
0.5.1.post1 (its own defaults; AIConfigurator 0.4.0's H100 bf16 table fits 1.47 of peak, not physical) and 0.5.9 /
0.5.10 / glm5-hopper (AIConfigurator 0.10.0 parquet tables, not fitted here).

TensorRT-LLM: one rule for every row. Each release runs its own measured absorbed-MLA decode kernel and block-fp8
fused MoE's extra over the catalog's 1.3.0rc20 kernel (`serving.mla_decode` "Release fits", `serving.routed_experts`
"Release extra"), fitted to NVIDIA AIConfigurator's tables of that release (aiconfigurator 0.7.0 wheel, Apache-2.0,
systems/data/{h100_sxm,h200_sxm}/trtllm/<release>/: 1.0.0rc3 and 1.2.0rc5; no wheel 0.2.0-0.12.0 holds a 1.1 table)
by one procedure (cited in each YAML). A release runs the tables of its own release line (major.minor) where
AIConfigurator measured one of its candidates (ASSUMPTION: the candidates of one line share their kernels), else the
catalog's kernels, the model's one fallback everywhere (1.3.0rc20's). Release dates for reference (pypi.org/pypi/
tensorrt-llm/json): 1.0.0rc3 2025-07-16, 1.1.0rc2 2025-08-30, 1.2.0rc1 2025-10-22, 1.2.0rc5 2025-12-10, 1.2.0rc6.post1
2026-01-11.
* 1.0.0rc3 (Dynamo harness): `trtllm-1.0.0rc3-dynamo-agg.yaml`, its own kernels. OFF (`TRTLLM_GEMM_NET_OF_QUANT`,
  hT54): `trtllm-1.0.0rc3-net-quant-dynamo-agg.yaml`, the fp8 GEMM rate net of the input scale and cast that
  AIConfigurator's table times with it, QKV's and gate-up's cast in kernels of their own; dense 18.29 -> 19.30 %.
* 1.2.0rc6.post1, and Dynamo 0.8.1 images (`trtllm-0.8.1.post1`: TensorRT-LLM 1.2.0rc6.post1 by AIConfigurator
  0.12.0 generator/config/backend_version_matrix.yaml): `trtllm-1.2.0rc6.yaml`, 1.2.0rc5's kernels.
* 1.1.0rc2.post2 (no 1.1 table in any wheel) and unversioned rows (`trtllm`): the catalog's kernels. Measured, not
  adopted (lead, 2026-12-02): mapping them to the release nearest by date (1.1.0rc2 -> 1.0.0rc3's tables, 45 days;
  the unversioned rows of 2025-10-29 / 11-02 -> 1.2.0rc5's, 49 days; `NEAREST_DATE_STACKS`) takes the MoE set from
  15.56 to 16.22 % (the effect paragraph); a neighbouring release line's kernels are no better supported than the
  catalog's, and the 1.1.0rc2 campaign's own decode (8.6 ms at 4 clients, TP8 EP8) is already faster than the model
  on either (it ran MTP, `campaign_settings`; with its drafts priced the mapping still worsens the set, 15.23 ->
  15.48 %, the 1.1.0rc2 part alone -> 15.27 %: round 20 of the notes).
vLLM rows that name no release (the dense set's InferenceX Llama 3.1 70B H100 / H200 rows, 2025-10-29) run the shipped
vllm-0.x. Measured, not adopted (hV, session 67): `vllm-0.11.yaml`, the release current at that date (wheels built
2025-10-03 / 2025-11-18 for 0.11.0 / 0.11.1) with its own measured fp8 GEMM rate (AIConfigurator 0.4.0's vllm/0.11.0
table; its engine facts read as 0.12.0's): dense 18.00 -> 17.71 % (those rows' TTFT H100 22.8 -> 16.7 %, H200 14.7 ->
11.0 %, TPOT 7.4 -> 8.1 / 7.0 -> 7.3 %), every other set unchanged; not adopted for the policy above (the rows do not
name it). `NEAREST_DATE_STACKS["vllm"]`.
Not mapped: `gpt-oss-dev` (a development build, no release), 1.3.0rc1 (rows awaiting) and the dense set's Dynamo
1.2.0rc6.post1 rows (dense models: no release kernel applies). Qwen3-235B and GPT-OSS have no MLA and fewer routed
experts than the MoE extra's `min_experts`: of these rules only the block-fp8 GEMM floor reaches Qwen3's rows.

Kernels by measured release (H200 / H100; the fits and their errors are in each YAML):

| release (YAML) | MLA decode fixed us, fp8 read fraction | MoE extra us + ns per (token, expert) | fp8 GEMM us |
|---|---|---|---|
| 1.3.0rc20 (catalog) | 15.0 / 15.1, 0.63 / 0.82 | 0 | none (roofline) |
| 1.2.0rc5 (trtllm-1.2.0rc6.yaml) | 28.0 / 28.3, 0.58 / 0.76 | 15.5 + 0.049 / 15.9 + 0.047 | 4.51 / 4.45 |
| 1.0.0rc3 (trtllm-1.0.0rc3.yaml) | 29.6 / 29.5, 0.42 / 0.43 | 25.8 + 0.050 / 26.9 + 0.043 | 4.55 / 4.57 |

1.0.0rc3's fp8-KV MLA rows are its bf16 rows (the same kernel: half the bf16 fit's read fraction on half the bytes),
and it has power-law MoE tables only (the difference is taken at power_law_1.01; ASSUMPTION: the same balanced, as
1.2.0rc5's two fits roughly agree). Its long MoE prefills are as slow as rc20's at the same routing: round 15's block
depth for 1.0.0rc3 measured the routing skew, not the release (notes/serving_hopper_moe_tried.md, round 16).

Effect of the nearest-date mapping (round 16, every row, one tree): the MoE / MLA set 15.56 % -> 16.22 % (TTFT 21.38
-> 21.34, TPOT 9.74 -> 11.10): the TensorRT-LLM DeepSeek rows' TPOT was already over-predicted (1.1.0rc2.post2 TP8 EP8
median +35 % -> +62 %, its attention-DP8 rows +13 -> +21 %, unversioned MoE TP8 +12 -> +25 %; Qwen3-235B 1.0.0rc3 +2
-> +4 %, the GEMM floor). Not adopted for rows without a table of their own release line (above); the 1.0.0rc3 rows'
own are. The dense (20.09 %) and disaggregated (14.59 %) sets do not move: no dense model meets these rules, and the
disaggregated rows keep their 1.2.0rc6.post1 stack.
"""

from __future__ import annotations

from importlib import resources
from pathlib import PurePath

# a row's stack (`row_stack`) -> its release's YAML in data/stacks/ (module docstring)
RELEASE_STACKS = {"sglang-0.5.1.post1": "sglang-0.5.1.yaml", "vllm-0.12.0": "vllm-0.12.yaml",
                  "vllm-0.16.0": "vllm-0.16.yaml", "vllm-0.18.0": "vllm-0.16.yaml",
                  # Blackwell rows: 0.17.0 between two releases read async by default (hB70); 0.15.1 / 0.19.0 read
                  # in their wheels (module docstring)
                  "vllm-0.15.1": "vllm-0.16.yaml", "vllm-0.17.0": "vllm-0.16.yaml", "vllm-0.19.0": "vllm-0.16.yaml",
                  "trtllm-1.2.0rc6.post1": "trtllm-1.2.0rc6.yaml", "trtllm-0.8.1.post1": "trtllm-1.2.0rc6.yaml"}
# by release date, not release line (measured, not adopted: module docstring); add to RELEASE_STACKS to try it
NEAREST_DATE_STACKS = {"trtllm-1.1.0rc2.post2": "trtllm-1.0.0rc3.yaml", "trtllm": "trtllm-1.2.0rc6.yaml",
                       "vllm": "vllm-0.11.yaml"}  # unversioned vLLM: the release current then (hV67)
DYNAMO_TRTLLM_STACK = "trtllm-0.x-dynamo-agg.yaml"  # trtllm-0.x with free_gpu_memory_fraction 0.80
DYNAMO_TRTLLM_RELEASE_STACKS = {"1.0.0rc3": "trtllm-1.0.0rc3-dynamo-agg.yaml"}  # + the release's measured kernels
TRTLLM_GEMM_NET_OF_QUANT = False  # 1.0.0rc3's fp8 GEMM net of its input's cast (module docstring; toggle, off)
NET_OF_QUANT_STACKS = {"1.0.0rc3": "trtllm-1.0.0rc3-net-quant-dynamo-agg.yaml"}
MIXED_CHUNK_STACK = "sglang-0.x-mixed-chunk.yaml"  # SGLang with the generator's --enable-mixed-chunk
# + the release's measured GEMM rates (module docstring); the other releases run MIXED_CHUNK_STACK
SGLANG_MIXED_CHUNK_RELEASE_STACKS = {"0.5.6.post2": "sglang-0.5.6-mixed-chunk.yaml",
                                     "0.5.8.post1": "sglang-0.5.8-mixed-chunk.yaml"}


def row_stack(row: dict[str, str]) -> str:
    """The software stack the row ran: backend and version (`vllm-0.12.0`; version unknown: `vllm`)."""
    return f"{row['backend']}-{row['backend_version']}" if row.get("backend_version") else row["backend"]


def data_stack(name: str) -> str:
    """The path of a stack YAML the validation sets ship in `data/stacks/`."""
    return str(resources.files("infraplan.validation") / "data" / "stacks" / name)


def stack_name(ref: str) -> str:
    """A stack as `infraplan validate` names the case that ran it: a shipped profile by its name (`trtllm-0.x`), a
    file by its file name (`vllm-0.12.yaml`, one of data/stacks/: `data_stack`)."""
    return PurePath(ref).name


def release_stack(row: dict[str, str]) -> str:
    """The stack the row's engine release runs by default: its YAML in data/stacks/ (`RELEASE_STACKS`), else the
    backend's shipped profile (`row_stack`)."""
    name = RELEASE_STACKS.get(row_stack(row))
    return data_stack(name) if name else row_stack(row)


def dynamo_stack(row: dict[str, str]) -> str:
    """The stack YAML (path) of a TensorRT-LLM row served through AIConfigurator's Dynamo harness: its release's
    (`DYNAMO_TRTLLM_RELEASE_STACKS`; `NET_OF_QUANT_STACKS` under `TRTLLM_GEMM_NET_OF_QUANT`), else the shipped
    profile at the template's KV fraction."""
    version = row.get("backend_version", "")
    if TRTLLM_GEMM_NET_OF_QUANT and version in NET_OF_QUANT_STACKS:
        return data_stack(NET_OF_QUANT_STACKS[version])
    return data_stack(DYNAMO_TRTLLM_RELEASE_STACKS.get(version, DYNAMO_TRTLLM_STACK))


def mixed_chunk_stack(row: dict[str, str]) -> str:
    """The stack YAML (name) of an SGLang row run with AIConfigurator's generated flags: its release's
    (`SGLANG_MIXED_CHUNK_RELEASE_STACKS`), else the mixed-chunk profile."""
    return SGLANG_MIXED_CHUNK_RELEASE_STACKS.get(row.get("backend_version", ""), MIXED_CHUNK_STACK)
