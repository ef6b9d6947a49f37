"""`serve` gives joules per token with and without the host share, and names the share with its source: MTIA 400's
per-joule lead over B200 on LLMs is its assumed 300 W host share (session 44's review)."""

from __future__ import annotations

import pytest

from infraplan.cluster.host_share import host_share
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving


def _run(system: str) -> ServingResult:
    r = estimate_serving("llama3-8b", system, 1, dtype="bf16", stack="vllm-0.x", concurrency=8, input_len=512,
                         output_len=64, requests=200)
    assert isinstance(r, ServingResult) and r.fits
    return r


@pytest.mark.parametrize("system", ["mtia-400", "h100-sxm"])
def test_the_host_share_is_the_difference_between_the_two_figures(system: str) -> None:
    r = _run(system)
    share = host_share(system).watts
    # J with host - J without = the host watts over the tokens served a second (hJ57: was over the whole run)
    assert r.steady_output_tokens_per_s is not None
    assert (r.joules_per_token - r.device_joules_per_token) * r.steady_output_tokens_per_s == pytest.approx(
        share * r.deployment.gpus, rel=1e-9)
    assert r.assumptions.host_share.startswith(f"{share:.4g} W per accelerator")


def test_mtia_400_names_its_assumed_share() -> None:
    line = _run("mtia-400").assumptions.host_share
    assert "300 W" in line and "ASSUMPTION" in line and "device_joules_per_token" in line
