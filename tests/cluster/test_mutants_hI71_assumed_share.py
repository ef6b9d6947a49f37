"""Mutation wave on `cluster.host_share`'s ASSUMED figures (hI, session 71): which host / switch figures a platform
answer calls ASSUMED (`assumed_reason`, `assumed_share_w`, `assumed_share_note`). Hand sums on small nodes; the
generic rule is Epoch AI's GPU server = 1.82 x TDP (DGX H100 10.2 kW / 8 / 700 W), so its host share is 0.82 x TDP.
The mutant ids are hI71's NOTE's."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.schemas import Node
from infraplan.cluster.host_share import (
    accelerator_host_share,
    assumed_reason,
    assumed_share_note,
    assumed_share_w,
)

SOURCED = "DGX datasheet maximum less its GPUs"
NVL = Node(accelerators_per_node=4, scale_up_domain=72, nics_per_node=4, nic_bandwidth_bytes_per_s=50e9,
           host_power_w=1200.0, host_power_source=SOURCED, scale_up_switch_power_w=3600.0,
           scale_up_switch_source=SOURCED)


def test_the_reason_of_each_kind_of_source() -> None:
    """hI71 HS1 / HS2 / HS3 / HS7: a source labelled ASSUMPTION anywhere in it (the catalog writes "MTIA 400: ...
    ASSUMPTION ..."), the generic rule's ("0.82 x TDP"), none at all; a source stated: None."""
    assert assumed_reason("Meta's roadmap gives the chip's 1,200 W only; ASSUMPTION: a tray of 2") == (
        "labelled ASSUMPTION")
    generic = accelerator_host_share(load_accelerator("tpu-v5p")).host_source
    assert assumed_reason(generic) == "by Epoch AI's GPU-server rule of 0.82 x TDP"
    assert assumed_reason("   ") == "with no source stated"
    assert assumed_reason(SOURCED) is None


def test_each_figure_is_judged_by_its_own_source_and_the_assumed_ones_add() -> None:
    """hI71 HS4 / HS5 / HS6 / HS8 / HS9: an NVL72-like node of 4 GPUs a tray, 1,200 W of host a tray (300 W a GPU)
    and 3,600 W of switches a 72-GPU domain (50 W a GPU). Switches ASSUMED, host sourced: 50 W; both ASSUMED: 350 W,
    one line for each and the note over 350 W of the node's 350; no switches and an unsourced 0 W: nothing."""
    switches = NVL.model_copy(update={"scale_up_switch_source": "ASSUMPTION: 9 trays of 400 W"})
    assert assumed_share_w(switches) == (pytest.approx(50.0), ["50 W of scale-up switches labelled ASSUMPTION"])
    both = switches.model_copy(update={"host_power_source": ""})
    got, lines = assumed_share_w(both)
    assert got == pytest.approx(350.0)
    assert lines == ["300 W of host with no source stated", "50 W of scale-up switches labelled ASSUMPTION"]
    note = assumed_share_note(both, "GPU")
    assert note is not None and note.startswith("350 of the 350 W per GPU of host and scale-up switches is ASSUMED")
    assert (assumed_share_note(switches, "GPU") or "").startswith("50 of the 350 W per GPU")
    no_switch = NVL.model_copy(update={"scale_up_switch_power_w": 0.0, "scale_up_switch_source": ""})
    assert assumed_share_w(no_switch) == (0.0, []) and assumed_share_note(no_switch) is None
