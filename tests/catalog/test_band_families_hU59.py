"""An answer on an accelerator family no validation case measures (hU59, catalog/band_transfer.py): its basis says
it lies outside the validated accelerators and how a band carried over between the validated families, instead of
"fewer than 9 campaigns of mtia training cases" as if some existed."""

from __future__ import annotations

from infraplan.catalog.band_transfer import accelerator_family, family_transfer, family_unvalidated
from infraplan.catalog.error_bands import Residual, campaign_band, error_band


def _cases(family: str, values: list[float], kind: str = "serving", metric: str = "throughput") -> list[Residual]:
    return [Residual(id=f"{family}-{i}", family=family, stack="vllm", kind=kind, residual=v, metric=metric,
                     campaign=f"{family}-{i}") for i, v in enumerate(values)]


def _full_range(values: list[float], campaigns: list[str]) -> tuple[float, float] | None:
    return campaign_band(values, campaigns) or (min(values), max(values))


def test_an_unmeasured_family_is_said_to_be_outside_the_validated_accelerators() -> None:
    """10 Hopper and 10 Blackwell campaigns band an MTIA question with their pooled band (unchanged), and the basis
    says no MTIA case exists; a Hopper question's basis does not."""
    pool = tuple(_cases("hopper", [0.01 * i for i in range(10)]) + _cases("blackwell", [0.02 * i for i in range(10)]))
    mtia = error_band("mtia-400", "vllm-0.x", "serving", pool)
    hopper = error_band("h100-sxm", "vllm-0.x", "serving", pool)
    assert mtia is not None and hopper is not None
    assert "no mtia (mtia-400) serving case: outside the validated accelerators" in mtia.basis
    assert "outside the validated" not in hopper.basis
    everyone = error_band("tpu-v5p", "vllm-0.x", "serving", pool)
    assert everyone is not None and (mtia.low, mtia.high) == (everyone.low, everyone.high)


def test_the_held_share_is_what_a_band_without_the_family_held_of_its_cases() -> None:
    """Hopper's 10 single-case campaigns at 0, +1, .., +9 % and Blackwell's at +5, +10, .., +50 %: at K = 10 the
    conformal ranks are floor(0.1 x 11) = 1 and ceil(0.9 x 11) = 10, the min and max, so Hopper's band is
    [0, +9 %] and holds 1 of Blackwell's 10 (+5 %); Blackwell's is [+5 %, +50 %] and holds Hopper's +5..+9 %: 5 of
    10 (hand count)."""
    hopper = _cases("hopper", [i / 100 for i in range(10)])
    blackwell = _cases("blackwell", [5 * (i + 1) / 100 for i in range(10)])
    text = family_transfer(hopper + blackwell, "mtia", _full_range)
    assert "10% of blackwell's 10" in text and "50% of hopper's 10" in text
    assert "ASSUMPTION" in text


def test_a_pool_of_one_family_makes_no_claim_for_another() -> None:
    """Every TTFT case is Hopper: a Blackwell TTFT answer is told nothing shows the band holds there."""
    pool = tuple(_cases("hopper", [0.1 * i for i in range(12)], metric="ttft"))
    band = error_band("gb200", "vllm-0.x", "serving", pool, metric="ttft")
    assert band is not None and "every case is hopper: no measurement shows this band holds on blackwell" in band.basis


def test_a_case_of_family_any_covers_every_family_and_facility_is_not_judged() -> None:
    """A facility or network case measured on no particular part (family "any") covers every family; a facility
    answer, running no kernels, is never called outside the validated accelerators."""
    anyone = _cases("any", [0.0, 0.1], kind="training")
    assert not family_unvalidated(anyone, "mtia", "training")
    assert family_unvalidated(_cases("hopper", [0.0], kind="training"), "mtia", "training")
    assert not family_unvalidated(_cases("hopper", [0.0], kind="facility"), "mtia", "facility")


def test_mi355x_is_its_own_family_not_mi300x() -> None:
    """MI355X is CDNA 4 (its catalog file: 10 PF fp4, 288 GB HBM3e), not the MI300X die: an MI300X case does not
    make an MI355X answer validated."""
    assert accelerator_family("mi355x") == "cdna4" != accelerator_family("mi300x") == "cdna3"
