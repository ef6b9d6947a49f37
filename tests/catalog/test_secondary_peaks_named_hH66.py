"""Every peak of a SECONDARY or PRELIMINARY part is named in its source: read there, or marked an ASSUMPTION.

hH66's walk: MTIA 300 / 400 / 450 list an int8 peak (2x bf16) that their source never names; it derives bf16 from
the B200's FLOP per byte and "mxfp8 2x and mxfp4 4x bf16", the summaries say MX8 / MX4. An int8 recsys model, a
`--dtype int8` serve and recsys's fp8 stand-in order (`recsys.estimate._STAND_INS`) run at it. A datasheet part's
peaks are its datasheet's; a secondary or preliminary part's are derived one by one, so each must be said.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import list_presets, load_accelerator

# one width, one rate where a source gives either name: a peak named by its twin is named
TWINS = {"fp16": "bf16", "bf16": "fp16", "mxfp8": "fp8", "fp8": "mxfp8", "nvfp4": "fp4", "fp4": "nvfp4"}
NOT_DATASHEET = [n for n in list_presets("accelerators") if load_accelerator(n).figures != "datasheet"]


def test_the_roadmap_parts_are_among_them() -> None:
    assert {"mtia-300", "mtia-400", "mtia-450", "rubin"} <= set(NOT_DATASHEET)


@pytest.mark.parametrize("name", NOT_DATASHEET)
def test_each_peak_is_named_in_the_source(name: str) -> None:
    part = load_accelerator(name)
    text = f"{part.source} {part.figures_note}".lower()
    unnamed = [d for d in part.peak_flops_per_s if d not in text and TWINS.get(d, d) not in text]
    assert not unnamed, f"{name}: peaks {unnamed} are not in its source"


@pytest.mark.parametrize("name", ["mtia-300", "mtia-400", "mtia-450"])
def test_the_mtia_int8_peak_is_marked_an_assumption(name: str) -> None:
    source = load_accelerator(name).source
    assert "int8" in source and "ASSUMPTION" in source[source.index("int8"):source.index("int8") + 200]
