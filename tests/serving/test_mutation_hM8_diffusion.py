"""hM8 (mutation wave 8): image serving by hand from serving/diffusion.py's docstring, Stable Diffusion v1.5 at 512 px
(catalog/diffusion/sd-v1.5-512.yaml: U-Net 678 GFLOP and 860 M parameters per image step, 2 guidance passes, text
encoder 13.4 GFLOP / 123 M, decoder 624 GFLOP / 50 M, 1.5 GB of activations per image step, 600 / 150 kernels):

    step(B) = max(B x passes x unet_flops / R, (2 B/param x unet_params + B x passes x act_bytes) / BW)
              + 600 x kernel_overhead
    admission = text_encoder_flops / R,  finish = decoder_flops / R + 150 x kernel_overhead
    memory = 2 B x (U-Net + text encoder + decoder params) + B x passes x act_bytes + 1.5 GB reserve
"""

from __future__ import annotations

import pytest

from infraplan.catalog.serving_loader import load_diffusion_model, load_workload
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving.diffusion import diffusion_cost, estimate_image_serving, memory_need_bytes
from infraplan.serving.serving_metrics import power_terms

SYSTEM = "dgx-h100-superpod"


@pytest.fixture(scope="module")
def sd():
    return load_diffusion_model("sd-v1.5-512")


@pytest.mark.parametrize("dtype", ["bf16", "fp8"])  # bf16: compute-bound steps; fp8 (2x the rate): memory-bound
def test_a_denoising_step_is_the_slower_of_compute_and_memory_plus_its_launches(sd, dtype: str) -> None:
    acc = Cluster.resolve(SYSTEM).accelerator
    rates = KernelRates.for_dtype(acc, dtype)
    r, bw, launch = rates.matmul_flops_per_s, rates.memory_bytes_per_s, rates.kernel_overhead_s
    cost = diffusion_cost(sd, acc, 4, dtype)
    for b in range(1, 5):
        compute = b * 2 * 678e9 / r
        memory = (2.0 * 860e6 + b * 2 * 1.5e9) / bw
        assert cost.body_s[b] == pytest.approx(max(compute, memory) + 600 * launch, rel=1e-12)
    assert cost.body_s[0] == 0.0
    assert cost.per_prefill_token_s == pytest.approx(13.4e9 / r, rel=1e-12)
    assert cost.per_finish_s == pytest.approx(624e9 / r + 150 * launch, rel=1e-12)
    if dtype == "fp8":
        assert (2.0 * 860e6 + 2 * 1.5e9) / bw > 2 * 678e9 / r  # batch 1 is memory-bound here


def test_memory_holds_every_components_weights_both_passes_activations_and_the_reserve(sd) -> None:
    # 2 x (860 + 123 + 50) M = 2.066 GB, 16 x 2 x 1.5 GB = 48 GB, 1.5 GB (not 1.5 GiB): 51.566 GB
    assert memory_need_bytes(sd, 16) == pytest.approx(51.566e9, rel=1e-12)
    r = estimate_image_serving(load_workload("image-generation"), SYSTEM, 1, rate=None, requests=1, max_batch=32)
    assert not r["fits"]  # 2.066 + 96 + 1.5 GB = 99.566 GB = 92.7 GiB on an 80 GB H100
    assert "need 92.7 GiB" in r["why"]


def test_one_image_alone_takes_its_steps_its_encoding_and_its_decode(sd) -> None:
    wl = load_workload("image-generation")
    cluster = Cluster.resolve(SYSTEM)
    acc = cluster.accelerator
    r = estimate_image_serving(wl, SYSTEM, 1, rate=None, requests=1, max_batch=1, usd_per_gpu_hour=2.0)
    cost = diffusion_cost(sd, acc, 1)
    steps = int(wl.steps or 1)
    assert steps == 25
    one_step = cost.body_s[1] + cost.overhead_s
    alone = steps * one_step + cost.per_prefill_token_s + cost.per_finish_s  # 25 steps, not 24 or 26
    assert r["unet_step_s_batch1"] == pytest.approx(one_step, rel=1e-12)
    assert r["image_latency_s_batch1"] == pytest.approx(alone, rel=1e-12)
    assert r["e2e_s"]["p50"] == pytest.approx(alone, rel=1e-12)
    assert r["duration_s"] == pytest.approx(alone, rel=1e-12)
    # $2 per GPU-hour for the image's seconds, per thousand images
    assert r["usd_per_thousand_images"] == pytest.approx(2.0 * alone / 3600.0 * 1e3, rel=1e-12)
    # while it runs the GPU draws idle + (TDP - idle) x (0.5 + 0.5 u) (POWER_ASSUMPTION), u <= 1, plus the host
    idle, host = power_terms(acc, cluster.system)
    assert idle + host + 0.5 * (acc.tdp_w - idle) <= r["power_w_per_gpu"] <= acc.tdp_w + host
