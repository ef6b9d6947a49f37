"""Mutation wave hM20 (session 44) on `serving.image_steady_state`: the rule's edges (utilisation 1, a run of exactly
MAX_PROBE_IMAGES, a --requests of exactly the images needed) and the held-images line, each by hand from the module
docstring."""

from __future__ import annotations

from infraplan.serving.image_steady_state import (
    MAX_PROBE_IMAGES,
    probe_images,
    short_run_warning,
    steady_length,
    top_utilisation,
)
from infraplan.serving.steady_state import STEADY_SPANS


def test_at_utilisation_one_the_queue_never_settles() -> None:
    assert probe_images(1.0, 16) is None
    length = steady_length(10.0, 10.0, 1, 16)  # the rate is the offline capacity
    assert (length.utilisation, length.images, length.run_images) == (1.0, None, MAX_PROBE_IMAGES)
    warning = short_run_warning(1000, length)
    assert warning is not None and "at or above the offline capacity" in warning
    # asked the whole longest run: still warned, since no length settles it
    assert short_run_warning(MAX_PROBE_IMAGES, length) is not None


def test_a_run_of_exactly_the_longest_run_is_allowed() -> None:
    """rho 0.5 (rho^2 / (1 - rho)^2 = 1) at c_a^2 = 200,000 / 60: 60 x c_a^2 = 200,000 images, not more."""
    ca2 = MAX_PROBE_IMAGES / 60.0
    assert probe_images(0.5, 1, ca2) == MAX_PROBE_IMAGES
    assert probe_images(0.5, 1, ca2 * 1.001) is None


def test_asking_the_longest_run_above_the_top_utilisation_is_not_warned() -> None:
    rho = (top_utilisation() + 1.0) / 2.0  # between 0.983 and 1: the rule needs more than the longest run
    length = steady_length(rho * 10.0, 10.0, 1, 16)
    assert length.images is None and length.utilisation < 1.0
    assert short_run_warning(MAX_PROBE_IMAGES, length) is None
    assert short_run_warning(MAX_PROBE_IMAGES - 1, length) is not None


def test_the_held_images_line_counts_every_accelerator() -> None:
    """4 accelerators of 1,000 images each at low load: STEADY_SPANS x 4,000 images held at once is the length."""
    length = steady_length(1.0, 10.0, 4, 1000)
    assert length.images == STEADY_SPANS * 4 * 1000
    assert f"{STEADY_SPANS} x the 4,000 images the deployment holds at once" in length.why
