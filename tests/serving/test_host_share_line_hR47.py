"""hR47 (session 45 review): `serve`'s host figures (hH47) on a node whose host share is not the part's own, and on
more than one accelerator. hH47's test ran one GPU on shipped systems, where every node's share equals its part's
figure (DGX H100: 4,600 W / 8 = 575 W, h100-sxm's), so a `device_joules_per_token` that took one accelerator's host
watts off the whole deployment's, or a line that always named the part's figure, passed.

Here: a copy of the DGX H100 SuperPOD whose node has 9,200 W of host (1,150 W per GPU, twice the part's 575 W), two
replicas on two GPUs. The host watts over the run are 2 x 1,150 W x the run's seconds; the line names the node's
share and not the part's (which the answer does not use).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.catalog.loader import preset_files
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving


def _system(tmp_path: Path) -> str:
    data = yaml.safe_load(preset_files("systems")["dgx-h100-superpod"].read_text())
    data["node"]["host_power_w"] = "9200W"
    data["display_name"] = "DGX H100 SuperPOD, doubled host"
    path = tmp_path / "dgx-h100-doubled-host.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_device_joules_leave_out_every_accelerators_node_host_share(tmp_path: Path) -> None:
    r = estimate_serving("llama3-8b", _system(tmp_path), 2, tp=1, dtype="bf16", stack="vllm-0.x", concurrency=16,
                         input_len=512, output_len=64, requests=200)
    assert isinstance(r, ServingResult) and r.fits and r.deployment.gpus == 2
    assert r.requests and r.mean_output_tokens and r.joules_per_token and r.device_joules_per_token
    assert r.duration_s and r.assumptions and r.assumptions.host_share
    # per token at the steady served rate (hJ57: was the host watts over the whole run over its tokens)
    assert r.steady_output_tokens_per_s is not None
    assert (r.joules_per_token - r.device_joules_per_token) * r.steady_output_tokens_per_s == pytest.approx(
        2 * 1150.0, rel=1e-9)
    line = r.assumptions.host_share
    assert line.startswith("1150 W per accelerator: its node's 9200 W of host over 8 accelerators")
    assert "the part's" not in line  # h100-sxm's 575 W is not the share this answer charges
