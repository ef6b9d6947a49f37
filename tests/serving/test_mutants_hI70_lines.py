"""Two mutants of session 69's serving lines the suite let live (hI, session 70): `serving_metrics.host_share_line`
credited a part's own host figure to its reference system's node where the figure is the part file's (basis
"device": MTIA 400's 300 W, hC69), and `deployment.format_refusal` spoke of one other stack in the plural."""

from __future__ import annotations

from infraplan.catalog.loader import load_accelerator
from infraplan.cluster.host_share import host_share, reference_system
from infraplan.serving.deployment import format_refusal
from infraplan.serving.serving_metrics import host_share_line


def test_a_device_figure_on_its_reference_rack_is_the_racks_own() -> None:
    """MTIA 400's 300 W of host is its part file's (basis "device"), not read off mtia-400-rack's node, whose 1,200 W
    over 4 chips is the same 300 W: the line names the rack's own figure. H100's 575 W comes from its reference
    system's node (basis "system"): there the line names the part's figure and where it comes from."""
    mtia = load_accelerator("mtia-400")
    rack = reference_system(mtia.catalog_name)
    assert rack is not None and rack.name == "mtia-400-rack" and host_share(mtia).basis == "device"
    line = host_share_line(mtia, rack)
    assert line.startswith("350 W per accelerator: its node's 1200 W of host over 4 accelerators (300 W; "
                           "mtia-400-rack's own node figure)")
    assert "the part's" not in line
    h100 = load_accelerator("h100-sxm")
    roce = reference_system(h100.catalog_name)
    assert roce is not None and host_share(h100).basis == "system"
    assert "(the part's system figure: meta-genai-roce-24k node" in host_share_line(h100, roce)


def test_one_other_stack_runs_the_format_in_the_singular() -> None:
    """mxfp8 on MI355X under vLLM 0.x (no MXFP8 linear method in vLLM 0.12.0): SGLang alone of the stacks that run
    on AMD serves it there, "which runs" (the mutant wrote "which run")."""
    line = format_refusal(load_accelerator("mi355x"), "mxfp8", "vllm-0.x")
    assert line is not None and line.endswith("; or --stack sglang-0.x, which runs mxfp8 on mi355x")
