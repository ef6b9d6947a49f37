"""A part file naming `recsys_profile: default` is priced on the default (assumed) profile, and the answer says so
(hR49, session 46): `has_recsys_profile` took "default" as no profile named and fell back to the part's preset, so a
what-if of H100 naming the default was answered with profile "default" and no ASSUMPTION line, though every
efficiency it used was the default's."""

from __future__ import annotations

from pathlib import Path

from infraplan.catalog.inference_loader import has_recsys_profile, load_recsys_profile
from infraplan.recsys.estimate import estimate_recsys


def test_the_default_named_is_not_a_profile_of_the_parts_own() -> None:
    assert has_recsys_profile("h100-sxm")  # its preset profile
    assert has_recsys_profile("h100-sxm", "h100-sxm")
    assert not has_recsys_profile("h100-sxm", "default")  # the default, as `load_recsys_profile` reads it
    assert load_recsys_profile("h100-sxm", "default").tiers == load_recsys_profile("no-such-part").tiers
    assert load_recsys_profile("h100-sxm", "default").tiers != load_recsys_profile("h100-sxm").tiers


def test_a_what_if_naming_the_default_carries_the_default_profiles_assumption(tmp_path: Path) -> None:
    part = tmp_path / "part.yaml"
    part.write_text("extends: h100-sxm\nname: my-part\nrecsys_profile: default\n")
    named = estimate_recsys("dlrm-medium", str(part))
    own = estimate_recsys("dlrm-medium", "h100-sxm")
    assert named.profile == own.profile.replace("h100-sxm", "default (assumed efficiencies)")
    assert "ASSUMPTION" in named.assumptions["profile"] and "profile" not in own.assumptions
