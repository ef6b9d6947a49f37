"""Mutation wave hM24 (session 46) on `serve`'s host-share line (`serving.serving_metrics.host_share_line`, hH47):
on GB200 NVL72 a node (4 GPUs, 1,800 W of host: the system file) is not its NVLink domain (72), so the line's count
and per-accelerator watts are the node's: 1,800 / 4 = 450 W (plus the domain's switches over its 72, hH53)."""

from __future__ import annotations

import yaml

from infraplan.catalog.loader import preset_files
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving


def test_the_line_divides_the_nodes_host_by_the_nodes_accelerators() -> None:
    node = yaml.safe_load(preset_files("systems")["gb200-nvl72"].read_text())["node"]
    assert (node["accelerators_per_node"], node["scale_up_domain"], node["host_power_w"]) == (4, 72, "1800W")
    r = estimate_serving("llama3-8b", "gb200-nvl72", 1, dtype="bf16", stack="vllm-0.x", concurrency=4,
                         input_len=256, output_len=32, requests=40)
    assert isinstance(r, ServingResult) and r.assumptions and r.assumptions.host_share
    line = r.assumptions.host_share
    # 1,800 / 4 = 450 W of host, plus the rack's 3,600 W of NVSwitch trays over its 72 GPUs = 50 W (hH53)
    assert line.startswith("500 W per accelerator: its node's 1800 W of host over 4 accelerators (450 W; ")
    assert ", plus 50 W per accelerator of scale-up switches: 3600 W per 72-accelerator domain" in line
    assert line.endswith("; device_joules_per_token leaves it out")
