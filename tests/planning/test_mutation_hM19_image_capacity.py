"""Mutation wave 3 (hM19, session 43) on `planning.image_capacity`'s steady-state probes (hI44): the arrival
variability its relaxation time reads, and the probe's floor of STEADY_SPANS batch caps."""

from __future__ import annotations

import numpy as np
import pytest

import infraplan.planning.image_capacity as ic
from infraplan.catalog.serving_loader import Arrival, load_workload
from infraplan.serving.diffusion import image_times
from infraplan.serving.steady_state import STEADY_SPANS
from infraplan.serving.workloads import arrival_times


def test_arrival_variability_is_the_squared_cv() -> None:
    """c_a^2 is the squared coefficient of variation of the gaps (Abate & Whitt's variance lambda c_a^2): 1 for
    Poisson's exponential gaps, 4 for Gamma gaps of cv 2, 0.25 for cv 0.5."""
    spec = load_workload(ic.DEFAULT_IMAGE_WORKLOAD)
    assert spec.arrival.process == "poisson" and ic.arrival_variability(spec) == 1.0
    for cv, ca2 in ((2.0, 4.0), (0.5, 0.25)):
        bursty = spec.model_copy(update={"arrival": Arrival(process="gamma", cv=cv)})
        assert ic.arrival_variability(bursty) == pytest.approx(ca2, rel=1e-15)


def test_a_probe_holds_steady_spans_batch_caps_at_least() -> None:
    """At low utilisation the relaxation time is short, so the floors decide: IMAGE_PROBE_REQUESTS, or STEADY_SPANS
    batch caps where that is more (the LLM probe's floor: a steady window without the first and last cap's
    images)."""
    big = ic.IMAGE_PROBE_REQUESTS // STEADY_SPANS + 1000
    assert ic.probe_images(0.1, big) == STEADY_SPANS * big > ic.IMAGE_PROBE_REQUESTS
    assert ic.probe_images(0.1, 1) == ic.IMAGE_PROBE_REQUESTS


def test_image_arrivals_are_the_workloads_seeded_stream() -> None:
    """A run's images arrive as the workload's arrival process draws them from `numpy.random.default_rng(seed)`
    (`workloads.arrival_times`, the stream LLM serving draws with the same seed), so `serve --seed s` and a plan's
    probe (PROBE_SEED) are reproducible from the seed alone."""
    spec = load_workload(ic.DEFAULT_IMAGE_WORKLOAD)
    for seed in (0, 3):
        got = image_times(spec, "h100-sxm", rate=2.0, requests=200, max_batch=4, seed=seed)
        assert not isinstance(got, str)
        assert np.array_equal(got[0], arrival_times(200, 2.0, spec.arrival, np.random.default_rng(seed)))


def test_a_batch_that_needs_exactly_the_memory_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    """`image_times` refuses a batch cap only where its need exceeds the accelerator's memory (`memory_need_bytes`
    <= memory fits, as `estimate_image_serving` says): at the memory exactly it runs, one byte more it says why."""
    from infraplan.cluster import Cluster
    from infraplan.serving import diffusion

    memory = Cluster.resolve("h100-sxm").for_gpus(1).accelerator.memory_bytes
    spec = load_workload(ic.DEFAULT_IMAGE_WORKLOAD)
    for need, fits in ((memory, True), (memory + 1.0, False)):
        monkeypatch.setattr(diffusion, "memory_need_bytes", lambda model, batch, need=need: need)
        got = image_times(spec, "h100-sxm", rate=1.0, requests=20, max_batch=4)
        assert isinstance(got, str) != fits
