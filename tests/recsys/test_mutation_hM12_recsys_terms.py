"""Mutation wave 12 (hM12): the DLRM estimate's period, kernel count, bound, SLO choice, batch check and placement
edge and table order, each as recsys/estimate.py's and recsys/embedding.py's docstrings state it."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.inference_loader import load_recsys_model, load_recsys_profile
from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.errors import InputError
from infraplan.recsys.embedding import Tier, place
from infraplan.recsys.estimate import best_point, candidate_batches, estimate_recsys, evaluate_batches


def test_the_host_link_overlaps_the_device_so_the_period_is_the_larger() -> None:
    """QPS = B / max(device time, host-link time); latency = device + host link (transfers of batch i + 1
    overlap the compute of batch i)."""
    e = estimate_recsys("dlrm-medium", "h100-sxm")
    link = e.breakdown_s["host_link"]
    device = e.latency_s - link
    assert link > 0.0 and device > link
    assert e.qps == pytest.approx(e.batch / max(device, link), rel=1e-12)


@pytest.mark.parametrize(("model", "interaction"), [("dlrm-medium", 1), ("mlperf-dlrm-dcnv2", 3)])
def test_one_launch_per_gemm_element_wise_pass_interaction_and_gathering_tier(model: str, interaction: int) -> None:
    """Kernels: every MLP / cross GEMM, one element-wise (concat) pass, the interaction (dot: one batched GEMM;
    DCN: one pointwise kernel per cross layer, 3 here) and one gather per on-device tier holding rows (HBM only on
    H100): 7 + 1 + 1 + 1 = 10 and 14 + 1 + 3 + 1 = 19 launches, each the catalog's fixed cost."""
    m, acc = load_recsys_model(model), load_accelerator("h100-sxm")
    e = estimate_recsys(model, "h100-sxm")
    assert e.placement["host"].used_bytes == 0.0  # the tables fit in HBM: one gathering tier
    launches = len(m.gemms()) + 1 + interaction + 1
    assert e.breakdown_s["kernel_overhead"] == pytest.approx(launches * acc.efficiency.kernel_overhead_s, rel=1e-12)


def test_embedding_gathers_count_on_the_memory_side_of_the_bound() -> None:
    """dlrm-medium on MTIA v1: the row gathers (~5 ms) outweigh every compute term together (~2.5 ms) and the
    host link is shorter than the device: the batch is memory-bound."""
    e = estimate_recsys("dlrm-medium", "mtia-v1")
    b = e.breakdown_s
    gathers = b["embedding_sram"] + b["embedding_device_memory"]
    compute = b["mlp_gemm"] + b["interaction"] + b["vector"] + b["kernel_overhead"]
    assert gathers > compute and b["host_link"] < e.latency_s - b["host_link"]
    assert e.bound == "memory"


def test_a_batch_whose_latency_is_the_slo_meets_it() -> None:
    """The SLO is met at latency <= SLO: with the SLO set to the latency of the highest-QPS candidate, that batch
    is the answer and meets it."""
    m, acc = load_recsys_model("dlrm-medium"), load_accelerator("h100-sxm")
    batches = candidate_batches(m)
    arrays = evaluate_batches(m, acc, load_recsys_profile("h100-sxm"), batches)
    i = int(np.argmax(arrays["qps"]))
    slo = float(arrays["latency_s"][i])
    assert best_point(arrays, slo) == (i, True)
    e = estimate_recsys("dlrm-medium", "h100-sxm", latency_slo_s=slo)
    assert e.batch == int(batches[i]) and e.meets_slo is True


def test_without_an_slo_every_batch_meets_it() -> None:
    """No SLO: the highest-QPS batch, and it counts as meeting (`best_point`'s (0, False) is for none meeting)."""
    arrays = {"qps": np.array([1.0, 3.0, 2.0]), "latency_s": np.array([0.1, 0.3, 0.2])}
    assert best_point(arrays, None) == (1, True)
    assert best_point(arrays, 0.05) == (0, False)


def test_a_batch_is_refused_when_the_widest_layers_input_and_output_exceed_memory() -> None:
    """2 x batch x widest width x dtype bytes (input and output of the widest layer, 6,144 fp16 values for
    dlrm-medium) against H100's device memory: the largest batch that fits runs, one more is refused."""
    m, acc = load_recsys_model("dlrm-medium"), load_accelerator("h100-sxm")
    widest = max([m.interaction_width(), *(max(k, n) for _, k, n in m.gemms())])
    per_sample = 2.0 * widest * DTYPE_BYTES[m.dtype]
    fits = int(acc.memory_bytes // per_sample)
    assert estimate_recsys(m, acc, batch=fits).batch == fits
    with pytest.raises(InputError, match=f"--batch {fits + 1}: the activations of the widest layer"):
        estimate_recsys(m, acc, batch=fits + 1)


def test_a_model_exactly_filling_the_tiers_is_placed() -> None:
    """Tables + dense weights equal to the usable capacity fit (a model is refused only beyond it)."""
    m, acc = load_recsys_model("dlrm-medium"), load_accelerator("h100-sxm")
    total = float(np.asarray(m.table_bytes()).sum()) + m.dense_bytes()
    tiers = [Tier("device", "HBM", total, 3.0e12, 0.5, 0.9)]
    placement = place(m, acc, tiers)
    assert placement.used_bytes[0] == pytest.approx(total, rel=1e-12)
    assert placement.dense_fraction[0] == 1.0 and np.all(placement.table_fraction[:, 0] == 1.0)
    with pytest.raises(InputError, match="does not fit"):
        place(m, acc, [Tier("device", "HBM", total * (1.0 - 1e-9), 3.0e12, 0.5, 0.9)])


def test_tables_are_placed_by_lookups_per_row_not_per_table() -> None:
    """dlrm-medium: 40 tables of 100,000 rows pooled once (1e-5 lookups per row) are hotter than 60 of 5,000,000
    pooled 15 times (3e-6), though the latter take more lookups per table. In a 1 GB SRAM (then HBM) the dense
    weights (93.9 MB) go first, then all 544 MB of the small tables, and the rest, 1e9 - 93.9e6 - 544e6 B of the
    40.8 GB of large tables, to SRAM."""
    m, acc = load_recsys_model("dlrm-medium"), load_accelerator("h100-sxm")
    tiers = [Tier("sram", "SRAM", 1.0e9, 1.0e13, 0.5, 0.9), Tier("device", "HBM", 80.0e9, 3.0e12, 0.5, 0.9)]
    placement = place(m, acc, tiers)
    small, large = 40 * 100_000 * 136.0, 60 * 5_000_000 * 136.0
    assert list(placement.table_fraction[0]) == [1.0, 0.0]
    assert placement.table_fraction[1, 0] == pytest.approx((1.0e9 - m.dense_bytes() - small) / large, rel=1e-12)
