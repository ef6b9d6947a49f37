"""Why one accelerator cannot serve an image workload: the SLO, not the memory of a larger batch cap (hM10's bug,
session 39: caps 1-16 fit an H100 and miss a 10 ms SLO, cap 32 does not fit; the answer said only the memory)."""

from infraplan.planning.image_capacity import image_capacity


def test_a_missed_slo_is_the_reason_even_when_a_larger_cap_does_not_fit() -> None:
    why = image_capacity("image-generation", None, "dgx-h100-superpod", 0.01)
    assert isinstance(why, str)
    assert "beyond the 0.01 s SLO" in why and "GiB" not in why
    p99_s = float(why.split("takes ")[1].split(" s")[0])
    assert p99_s > 0.01  # the lightest cap's p99 at 1/1000 of its offline rate, which the SLO cannot hold
    fits = image_capacity("image-generation", None, "dgx-h100-superpod", None)
    assert not isinstance(fits, str) and fits.p99_latency_s > p99_s  # the workload's own SLO is met at a larger cap
