"""SGLang's absorbed-MLA decode kernel on Hopper (H100 / H200): NVIDIA AIConfigurator 0.12.0's measured tables fitted.

Reproduces validation/calibration/aic_hopper_sglang_mla_decode.json, the figures of h100-sxm.yaml / h200.yaml's
`mla_decode_attention.sglang` (h800.yaml takes H100's; `serving.mla_decode`, "SGLang on Hopper"; hJ, session 56).
Input: the aiconfigurator-core 0.12.0 wheel (PyPI, Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data`:

    PYTHONPATH=src python validation/calibration/aic_hopper_sglang_mla_decode.py AIC/aiconfigurator_core/systems/data

Tables: `{h100_sxm,h200_sxm}/mla/sglang/0.5.14/generation_mla_perf.parquet`, kernel_source flash_attention: the
`fa3` backend SGLang picks for MLA models on sm90 (sglang 0.5.6.post2 srt/server_args.py:1390-1393, "2.1 We will
use FA3 backend on hopper"; 0.5.9 the same). Same model and fit as the TensorRT-LLM and Blackwell fits
(aic_blackwell_mla_decode.py's `fit_releases`; it reproduces H200 TensorRT-LLM's catalog fit). Finding: over an fp8
cache the fitted byte rate collapses (kv_read_fraction 0.06-0.08 against 0.79-0.86 over bf16): SGLang's FA3 MLA
decode casts the layer's whole latent buffer to the query's bf16 before the kernel
(layers/attention/flashattention_backend.py:1197-1199, 0.5.9 :1274; the query stays bf16 because the fp8 branch at
:1076 requires head_dim <= 256, MLA's is 576; mem_cache/memory_pool.py:1394-1401 returns the layer's whole
(pool size + page, 1, 576) buffer), so an fp8 cache costs a cast of the pool, then a bf16 read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from aic_blackwell_mla_decode import fit_releases, print_fits
from aic_tables import fit_systems

SYSTEMS = {"h100_sxm": "h100-sxm", "h200_sxm": "h200"}
RELEASES = {"sglang": "0.5.14"}


def fit(data: Path, system: str) -> dict[str, Any]:
    return fit_releases(data, system, SYSTEMS[system], RELEASES)


if __name__ == "__main__":
    result = fit_systems(sys.argv[1:], "aic_hopper_sglang_mla_decode", SYSTEMS, fit)
    if result is None:
        sys.exit(2)
    print_fits(result)
