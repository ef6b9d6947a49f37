"""Every catalog idle figure says where it comes from: a publication, or ASSUMPTION with its reasoning (the H100 and
A100 figures had "no source recorded" until session 45)."""

from __future__ import annotations

import re

import pytest

from infraplan.catalog import list_presets, load_accelerator
from infraplan.cluster.power import DEFAULT_IDLE_FRACTION, idle_power

PARTS = [name for name in list_presets("accelerators") if load_accelerator(name).idle_power_w is not None]


@pytest.mark.parametrize("name", PARTS)
def test_an_idle_figure_is_sourced_or_a_labelled_assumption(name: str) -> None:
    acc = load_accelerator(name)
    source = acc.idle_power_source
    assert "no source recorded" not in source
    assert "ASSUMPTION" in source or re.search(r"(19|20)\d\d", source), source
    assert source in idle_power(acc).basis  # the answers' power line carries it


def test_the_h100_and_a100_figures_state_their_ratio_to_tdp() -> None:
    """The reasoning quotes the fraction of TDP the figure is: check it against the file's own TDP."""
    for name in ("h100-sxm", "a100-80gb"):
        acc = load_accelerator(name)
        stated = float(re.search(r"= ([\d.]+) % of (?:the )?(?:\d+ W )?TDP", acc.idle_power_source.replace("\n", " "))
                       .group(1)) / 100
        assert stated == pytest.approx(acc.idle_power_w / acc.tdp_w, abs=0.001)
        assert acc.idle_power_w >= DEFAULT_IDLE_FRACTION * acc.tdp_w  # no lower than the default rule
