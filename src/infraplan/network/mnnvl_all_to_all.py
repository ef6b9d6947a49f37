"""Measured NVLink all-to-all rate inside a GB200 NVL72 domain for the flex dispatchers' scale-up leg.

The DeepEP / HybridEP kernels (`cluster.deepep.flex_dispatch_seconds`) send a token once to every rank
of the domain that holds one of its experts. Priced at the catalog's scale-up rate (NVLink5 900 GB/s x 0.80, an
ASSUMPTION carried from H100's ring bus bandwidth), an EP32 / EP64 group on NVL72 would move that payload at
720 GB/s per GPU; no HybridEP figure is published in a package. NVIDIA AIConfigurator 0.12.0 measured TensorRT-LLM's
MoE all-to-all over the same NVL72 NVLink domain (systems/data/gb200/comm/trtllm/1.3.0rc10/
trtllm_alltoall_perf.parquet: NVLinkTwoSided, bf16, EP 2-64, made into catalog/nccl/
aiconfigurator_gb200_mnnvl_alltoall.csv by validation/calibration/aic_mnnvl_alltoall.py): the same per-rank
deduplicated payload moves at 484 / 421-517 GB/s (EP16), 518 / 454 (EP32), 480 / 431 (EP64) per GPU, dispatch /
combine, i.e. 0.50-0.58 of the link. ASSUMPTION: HybridEP's NVLink leg reaches the rate TensorRT-LLM's kernels
reach at the same EP size on the same fabric (both are SM-driven NVLink copies of the deduplicated tokens; the
training configurations give HybridEP 32 SMs, `validation.perf_config_moe`).

Read as an efficiency against the catalog's large-message rate (`scale_up_bandwidth x
scale_up_collective_efficiency`, the rate `Fabric` prices at), so a what-if on the link scales it; the
dispatch + combine pair's rate (`pair_gb_per_s`), interpolated linearly in log2(EP) and held beyond the table's
ends. Accelerators without a table keep the catalog rate. `MEASURED_MNNVL_ALL_TO_ALL` switches it off.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from infraplan.catalog.data_files import read_rows
from infraplan.catalog.loader import load_accelerator

MEASURED_MNNVL_ALL_TO_ALL = True
ACCELERATOR_TABLE_FILES = {"gb200": "aiconfigurator_gb200_mnnvl_alltoall.csv"}


@cache
def _efficiency_table(accelerator: str) -> tuple[np.ndarray, np.ndarray]:
    """(log2 EP sizes, pair rate over the catalog's scale-up collective rate) of the accelerator's table."""
    rows = read_rows("infraplan.catalog", "nccl", ACCELERATOR_TABLE_FILES[accelerator])
    spec = load_accelerator(accelerator)
    catalog = spec.scale_up_bandwidth_bytes_per_s * spec.efficiency.scale_up_collective_efficiency
    pair_rate = np.array([float(r["pair_gb_per_s"]) * 1e9 / catalog for r in rows])
    return np.log2([float(r["ep"]) for r in rows]), pair_rate


def measured_efficiency(accelerator: str, ranks: npt.ArrayLike) -> np.ndarray | None:
    """The measured in-domain all-to-all efficiency for groups of `ranks` GPUs of one domain, or None where the
    accelerator has no table (or the tables are switched off)."""
    if not MEASURED_MNNVL_ALL_TO_ALL or accelerator not in ACCELERATOR_TABLE_FILES:
        return None
    sizes, efficiency = _efficiency_table(accelerator)
    log_ranks = np.log2(np.maximum(np.asarray(ranks, dtype=np.float64), 1.0))
    return np.asarray(np.interp(log_ranks, sizes, efficiency), dtype=np.float64)
