"""A part file without a host link is priced at the default link, with a warning naming it (hN2, session 70).

`recsys dlrm-medium --accelerator FILE` on a GPU file that states no `host_link_bandwidth_bytes_per_s` priced the
requests' transfers from the host at nothing ("as a CPU's, its own host", said in a note) while its platform power
added a GPU server's host share (the generic rule, 0.82 x TDP). The schema fills a missing figure by a named default
rule elsewhere (`idle_power_w`: 10 % of TDP; `host_power_w`: the reference node or Epoch's 1.82 x TDP server;
`devices_per_server`: the generic node's 8), so a missing host link is the GPU server's PCIe Gen5 x16, 64 GB/s a
direction (`catalog.schemas.DEFAULT_HOST_LINK_BYTES_PER_S`), the figure the catalog's H100 / H200 / MI300X datasheets
give, warned where it is priced (recsys; `train --offload-layers`, whose copies were free too). A CPU keeps none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.conftest import WHAT_IF_PART, cli_json

from infraplan.catalog import list_presets, load_accelerator

STATED = WHAT_IF_PART.replace("scale_out_bandwidth_bytes_per_s: 800Gbps\n", "scale_out_bandwidth_bytes_per_s: "
                              "800Gbps\nhost_link_bandwidth_bytes_per_s: 64GB/s\nhost_link_source: the maker's\n")


@pytest.fixture
def parts(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "x1.yaml").write_text(WHAT_IF_PART)
    (tmp_path / "x1s.yaml").write_text(STATED)
    return str(tmp_path / "x1.yaml"), str(tmp_path / "x1s.yaml")


def test_recsys_prices_a_missing_host_link_at_the_default(parts: tuple[str, str],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    unstated, stated = (cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", p]) for p in parts)
    assert unstated["breakdown_s"]["host_link"] > 0.0  # was 0.0
    assert unstated["breakdown_s"] == stated["breakdown_s"] and unstated["qps"] == stated["qps"]
    warned = [w for w in unstated["warnings"] if "no host_link_bandwidth_bytes_per_s" in w]
    assert len(warned) == 1 and "default 64 GB/s a direction" in warned[0] and "PCIe Gen5 x16" in warned[0]
    assert not any("host_link" in w for w in stated["warnings"])
    assert "64 GB/s x 0.8 efficiency (ASSUMPTION [U], the default" in unstated["assumptions"]["host_link"]
    cpu = cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", "xeon-8480"])
    assert cpu["breakdown_s"]["host_link"] == 0.0 and cpu["assumptions"]["host_link"].startswith("none")


def test_train_offload_copies_are_priced_at_the_default(parts: tuple[str, str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    line = ("train llama3-8b --gpus 8 --tp 1 --seq-len 8192 --global-batch 64 --micro-batch 2 --recompute none "
            "--offload-layers 16 --system")
    unstated, stated = (cli_json(capsys, f"{line} {p}") for p in parts)
    assert unstated["step_time_s"] == stated["step_time_s"]  # 5.463 s: the copies wait on 64 GB/s (4.447 s free)
    assert unstated["breakdown_s"]["other"] > 1.0  # 1.239 s of it the offload's waits (0.223 s at a free link)
    assert any("offloaded activations' copies are priced at the default 64 GB/s" in n for n in unstated["notes"])


def test_every_non_cpu_preset_states_its_host_link() -> None:
    """No shipped part relies on the default (tpu-v5p was the one: now ASSUMED as MTIA 400's, in its file)."""
    from infraplan.catalog.schemas import DEFAULT_HOST_LINK_BYTES_PER_S

    parts = [load_accelerator(name) for name in list_presets("accelerators")]
    assert [p.name for p in parts if p.host_link_defaulted] == []
    assert load_accelerator("tpu-v5p").host_link_bytes_per_s == DEFAULT_HOST_LINK_BYTES_PER_S
    assert "ASSUMPTION" in load_accelerator("tpu-v5p").host_link_basis
    assert {p.host_link_bytes_per_s for p in parts if p.kind == "cpu"} == {0.0}
