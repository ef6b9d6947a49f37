"""A serving engine's own MoE all-to-all inside an NVL72 domain, from the engine's measured table (hW, session 67).

`ops.layer` prices a wide-EP MoE layer's dispatch + combine as two NCCL all-to-alls of the mean rank's k routed bf16
copies of its tokens (`network.nvlink_latency`: on an NVL72 the all-to-all line held at the 8-GPU boards' 7 peers,
`A2A_LINE_HELD`, an ASSUMPTION for NCCL's own all-to-all, hF66). The engines do not run NCCL there. TensorRT-LLM's
wide-EP MoE runs its own NVLink all-to-all over the domain, and NVIDIA AIConfigurator 0.12.0 measured it on GB200
NVL72 for EP 2-64 (`catalog/nccl/aiconfigurator_gb200_trtllm_nvlink_alltoall.csv`, made by validation/calibration/
aic_trtllm_nvlink_alltoall.py: kernel NVLinkTwoSided, TensorRT-LLM 1.2.0rc6, DeepSeek-V3 / R1's MoE: hidden 7,168,
top-8 of 256, balanced, 1-65,536 tokens a rank). Where the table covers the stack's engine and accelerator
(`TABLE_FILES`) and the EP group lies inside one scale-up domain, a layer's all-to-all is that engine's three calls,
as AIConfigurator's own serving model prices them (aiconfigurator_core 0.12.0 sdk/operations/moe_comm.py:173-178,
`nvlink_two_sided`: prepare, dispatch, combine; sdk/models/blocks/moe.py:593-648, each a per-MoE-layer op at the
rank's undivided tokens):

* prepare (the routing metadata's exchange) + dispatch (the hidden states in the MoE's format: the rows of moe_dtype
  nvfp4 / fp8 for those weights, bf16 otherwise, `DISPATCH_DTYPES`) + combine (bf16: the three dtypes' combine rows
  are the same traffic; the low-precision combine AIConfigurator's model picks for nvfp4 decode,
  sdk/models/blocks/moe.py:444-456, is a what-if, `LOW_PRECISION_COMBINE` off: TensorRT-LLM's default is not in
  reach, its source is not on PyPI; ASSUMPTION: off by default).
* One rule for message size and EP. Size: the collective's bytes (`ops.layer`: the mean or busiest rank's routed bf16
  copies, T k h x 2 B x the load factor) read as the table's tokens carrying the same bytes, T' = bytes / (8 x 7,168 x
  2 B) (R1 / V3: T' = T; another model at the same routed bytes a rank: ASSUMPTION, the table's one MoE shape),
  linear in tokens between the measured counts, the 1-token time below one token (a call still runs) and the last
  segment's slope beyond 65,536. Each curve is first made non-decreasing in tokens (a time at T is at most the time
  at any larger count: the running minimum from the top; it removes the table's few 1-4 token outliers, e.g. EP16
  combine 68.6 us at 1 token against 14.9 at 2). EP: linear in log2(EP) between the measured sizes, held beyond them
  (an NVL72's EP 72 reads EP 64: the table grows 1-2 us from EP 32 to 64 at decode sizes).
* GB300 NVL72 reads GB200's table (ASSUMPTION: same NVLink5 switch tray and domain; the one engine AIConfigurator
  measured on both, SGLang 0.5.12's DeepEP low-latency kernels, gb200 / gb300 comm/sglang/0.5.12/
  wideep_deepep_ll_perf.parquet, hidden 7,168, top-8 of 256: dispatch 16.57 / 16.68 us at 1 token, 112.92 / 112.88
  at 1,024; combine 18.13 / 18.34 and 168.29 / 166.64).
* No table: SGLang (DeepEP) and vLLM on NVL72. AIConfigurator 0.12.0 measured them on one 4-GPU tray only (gb200
  comm/vllm/0.24.0/moe_a2a_perf.parquet: ep_size 4, its collection_meta.yaml `campaign_ep_sizes: '4'`; comm/sglang/
  0.5.12/wideep_deepep_{ll,normal}_perf.parquet: node_num 1, no EP column), which gives no EP trend to read at 8-72
  ranks; they keep NCCL's held line (`network.nvlink_latency.A2A_LINE_HELD`), as does every EP group across domains
  and every accelerator without a table.

The two-batch overlap, the EPLB slots and the busiest rank's extra inbound copies (`serving.expert_slots`) read these
seconds as they read NCCL's (`serving.ep_all_to_all.collective_seconds`). `ENGINE_ALL_TO_ALL_TABLES` switches it off.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from infraplan.catalog.data_files import read_rows
from infraplan.network import nvlink_latency
from infraplan.network.fabric import Fabric, group_domain
from infraplan.ops.layer import Collective

ENGINE_ALL_TO_ALL_TABLES = True  # an engine's measured NVL72 all-to-all (module docstring); False: NCCL's line
LOW_PRECISION_COMBINE = False  # what-if: nvfp4 weights combine at the low-precision rows (module docstring)
GB200_TRTLLM_FILE = "aiconfigurator_gb200_trtllm_nvlink_alltoall.csv"
# (engine family, accelerator) -> its measured in-domain MoE all-to-all table (GB300: GB200's, module docstring)
TABLE_FILES = {("trtllm", "gb200"): GB200_TRTLLM_FILE, ("trtllm", "gb300"): GB200_TRTLLM_FILE}
TABLE_TOKEN_BYTES = 8.0 * 7168.0 * 2.0  # the table's routed bf16 copies of one token: top-8 x hidden 7,168 x 2 B
DISPATCH_DTYPES = {"nvfp4": "nvfp4", "fp8": "fp8"}  # weight format -> the rows' moe_dtype; others bfloat16
ENGINE_WORDS = {"trtllm": "TensorRT-LLM", "sglang": "SGLang", "vllm": "vLLM"}  # an engine family, said

# (log2 EP sizes, tokens, seconds [EP, tokens]) of one (op, moe_dtype) of a table
Curves = tuple[np.ndarray, np.ndarray, np.ndarray]


@cache
def table_curves(name: str) -> dict[tuple[str, str], Curves]:
    """(op, moe_dtype) -> its curves, each EP's made non-decreasing in tokens (module docstring)."""
    seen: dict[tuple[str, str], dict[int, dict[int, float]]] = {}
    for r in read_rows("infraplan.catalog", "nccl", name):
        by_ep = seen.setdefault((r["op"], r["moe_dtype"]), {})
        by_ep.setdefault(int(r["ep"]), {})[int(r["tokens"])] = float(r["latency_us"]) * 1e-6
    out: dict[tuple[str, str], Curves] = {}
    for key, by_ep in seen.items():
        eps = sorted(by_ep)
        tokens = sorted(set.intersection(*(set(by_ep[e]) for e in eps)))
        times = np.array([[by_ep[e][t] for t in tokens] for e in eps])
        times = np.minimum.accumulate(times[:, ::-1], axis=1)[:, ::-1]  # non-decreasing in tokens
        out[key] = (np.log2(np.array(eps, dtype=np.float64)), np.array(tokens, dtype=np.float64), times)
    return out


def _at_tokens(tokens: np.ndarray, seconds: np.ndarray, t: np.ndarray) -> np.ndarray:
    """One EP's curve at `t` tokens: linear between the measured counts, the first time below them, the last
    segment's slope beyond them."""
    slope = (seconds[-1] - seconds[-2]) / (tokens[-1] - tokens[-2])
    return np.where(t > tokens[-1], seconds[-1] + (t - tokens[-1]) * slope, np.interp(t, tokens, seconds))


def curve_seconds(curves: Curves, ep: float, t: np.ndarray) -> np.ndarray:
    """Seconds of one call at EP `ep` and `t` tokens a rank: linear in log2(EP) between the measured sizes, held
    beyond them (module docstring)."""
    log_eps, tokens, times = curves
    x = float(np.clip(np.log2(ep), log_eps[0], log_eps[-1]))
    hi = min(int(np.searchsorted(log_eps, x)), len(log_eps) - 1)
    lo = max(hi - 1, 0)
    upper = _at_tokens(tokens, times[hi], t)
    if hi == lo or x >= log_eps[hi]:
        return upper
    w = (x - log_eps[lo]) / (log_eps[hi] - log_eps[lo])
    return (1.0 - w) * _at_tokens(tokens, times[lo], t) + w * upper


def table_file(engine: str, accelerator: str) -> str | None:
    """The engine's measured in-domain all-to-all table on `accelerator`, or None (or with the toggle off)."""
    return TABLE_FILES.get((engine, accelerator)) if ENGINE_ALL_TO_ALL_TABLES else None


def priced_by_table(fabric: Fabric, c: Collective, engine: str) -> bool:
    """Whether `c` is an EP all-to-all the engine's table prices: a table for the engine and the fabric's accelerator,
    and a group of more than one rank inside one scale-up domain."""
    if c.role != "ep" or c.kind != "all_to_all" or table_file(engine, fabric.accelerator) is None:
        return False
    n, stride = float(np.max(c.group)), float(np.max(c.stride))
    return n > 1.0 and n * stride <= float(group_domain(fabric, n, stride))


def call_seconds(name: str, dtype: str, ep: float, routed_bytes: np.ndarray) -> dict[str, np.ndarray]:
    """Seconds of the prepare, dispatch and combine calls of one MoE layer at EP `ep` for `routed_bytes` a rank
    (the routed bf16 copies, `ops.layer`) with weights of `dtype` (module docstring)."""
    curves = table_curves(name)
    row_dtype = DISPATCH_DTYPES.get(dtype, "bfloat16")
    t = np.asarray(routed_bytes, dtype=np.float64) / TABLE_TOKEN_BYTES
    low = LOW_PRECISION_COMBINE and row_dtype == "nvfp4"
    return {"prepare": curve_seconds(curves[("prepare", row_dtype)], ep, t),
            "dispatch": curve_seconds(curves[("dispatch", row_dtype)], ep, t),
            "combine": curve_seconds(curves[("combine_low_precision" if low else "combine", row_dtype)], ep, t)}


def all_to_all_seconds(fabric: Fabric, c: Collective, engine: str, dtype: str) -> np.ndarray:
    """Seconds of the EP all-to-all record `c` (`ops.layer`: dispatch + combine, count 2 a layer) at the engine's
    measured calls: prepare + dispatch + combine a layer, `c.count / 2` layers' worth, where its mask holds."""
    name = table_file(engine, fabric.accelerator)
    assert name is not None, "priced_by_table first"
    calls = call_seconds(name, dtype, float(np.max(c.group)), np.asarray(c.bytes, dtype=np.float64))
    layer = calls["prepare"] + calls["dispatch"] + calls["combine"]
    return np.asarray(np.where(c.mask, 0.5 * c.count * layer, 0.0), dtype=np.float64)


def all_to_all_note(engine: str, fabric: Fabric, ep: int, attention_dp: int, moe_tp: int, pool: str = "") -> str | None:
    """What prices a wide-EP replica's dispatch / combine inside one scale-up domain larger than the measured 8-GPU
    boards: the engine's measured table, or NCCL's line held at the boards' size (module docstring); None where no
    all-to-all runs (no attention DP, or MoE TP folds it), EP is 1, or it leaves the domain."""
    board_gpus, domain = int(nvlink_latency.A2A_LINE_MAX_PEERS) + 1, fabric.scale_up_domain
    if attention_dp <= 1 or moe_tp > 1 or ep <= 1 or ep > domain or domain <= board_gpus:
        return None
    where, word = f"EP {ep}{f' ({pool} pool)' if pool else ''}", ENGINE_WORDS.get(engine, engine)
    if table_file(engine, fabric.accelerator) is not None:
        return (f"{where}: its dispatch / combine priced as {word}'s own NVLink all-to-all (prepare, dispatch and "
                "combine a MoE layer) from NVIDIA AIConfigurator 0.12.0's measured GB200 NVL72 table (TensorRT-LLM "
                f"1.2.0rc6, EP 2-64{', EP above 64 read at 64' if ep > 64 else ''}"
                f"{'; GB300 reads GB200' + chr(39) + 's' if fabric.accelerator == 'gb300' else ''}: "
                "serving.ep_alltoall_tables)")
    if ep <= board_gpus or not nvlink_latency.A2A_LINE_HELD:
        return None
    return (f"{where}: no measured {word} all-to-all table on {fabric.accelerator} beyond {board_gpus} GPUs; its "
            f"dispatch / combine priced as NCCL's all-to-all, its latency held at {board_gpus} GPUs' "
            "(network.nvlink_latency.A2A_LINE_HELD, an ASSUMPTION)")
