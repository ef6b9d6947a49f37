"""MTIA 300 / 400 / 450's kernel launch cost is MTIA 2i's measured one, and a recsys compute side that is mostly
launches is named "kernel-launch" (hO63, from hI63's walk).

Until session 63 the three roadmap parts carried 4 us a launch, the GPUs' figure, with no source (their files said
ASSUMPTION; the notes give no reason), while MTIA 2i, their predecessor, has ISCA'25's measured eager-mode job launch
of < 1 us (Coburn et al.; catalog/accelerators/mtia-v2.yaml: 1 us). So a later generation cost 4x its predecessor a
launch, and on dlrm-low MTIA 450 (1.51x MTIA 300's bf16 peak, 2x MTIA 400's HBM bandwidth) served 1.10x MTIA 300's
QPS: 40 us of launches against ~20 us of GEMMs, reported as "compute".
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.recsys.estimate import estimate_recsys


@pytest.mark.parametrize("part", ["mtia-300", "mtia-400", "mtia-450"])
def test_a_later_mtia_launches_no_slower_than_mtia_2i_measured(part: str) -> None:
    measured = load_accelerator("mtia-v2").efficiency.kernel_overhead_s  # ISCA'25: job launch < 1 us
    assert measured == pytest.approx(1e-6)
    assert load_accelerator(part).efficiency.kernel_overhead_s <= measured


def test_dlrm_low_on_mtia_450_gains_from_its_peak_and_bandwidth() -> None:
    """MTIA 450 has 1.51x MTIA 300's bf16 peak and 3.0x its HBM bandwidth: at one launch cost it serves > 1.5x the
    QPS on dlrm-low (1.87x; was 1.10x at 4 us)."""
    low = {p: estimate_recsys("dlrm-low", p) for p in ("mtia-300", "mtia-450")}
    assert low["mtia-450"].qps / low["mtia-300"].qps > 1.5
    assert low["mtia-450"].breakdown_s["kernel_overhead"] < low["mtia-450"].breakdown_s["mlp_gemm"]


def test_a_compute_side_of_launches_is_named_kernel_launch() -> None:
    """B200 on dlrm-low at its default batch (1,024): 10 launches x 4 us = 40 us against ~30 us of GEMM,
    interaction and element-wise work; "compute" read as a matrix-unit limit that a larger peak would lift."""
    r = estimate_recsys("dlrm-low", "b200")
    b = r.breakdown_s
    work = b["mlp_gemm"] + b["interaction"] + b["vector"]  # >= the compute side less launches (max(c, m) a term)
    assert r.bound == "kernel-launch" and b["kernel_overhead"] > work
    heavy = estimate_recsys("dlrm-medium", "b200")  # GEMMs outweigh the launches: "compute" as before
    assert heavy.bound == "compute"
    assert heavy.breakdown_s["kernel_overhead"] < heavy.breakdown_s["mlp_gemm"]
