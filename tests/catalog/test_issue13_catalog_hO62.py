"""Issue 13 item 6's catalog, entry by entry, with the figures the issue and shared/reference/frontier.md give (hO62).

Every part and system the item names is shipped (`catalog list`), with its figures' standing (Rubin preliminary,
MTIA 300 / 400 / 450 secondary), the MLPerf-declared board power frontier.md lists (B200 1000 W, B300 1100 W, GB200
1200 W, GB300 1400 W, Vera Rubin 2300 W; MTIA 300 800 W, MTIA 400 1,200 W with 288 GB at 9.2 TB/s, MTIA 450 1,400 W
at 18.4 TB/s), H800 as H100 with 400 GB/s NVLink (bidirectional; the catalog holds one direction), and the NVL72
racks and SuperPODs as the issue states them: a 72-GPU NVLink domain at 1.8 TB/s per GPU (900 GB/s a direction) and
800 Gb/s of scale-out per GPU, the rack's power from the boards' (gb200-nvl72.yaml's source: ~120-132 kW a rack).
Before this file only `test_presets_exist` named four pre-frontier parts; dropping or renaming any of these entries,
or a figure the issue fixes, passed the catalog tests. The README's "Catalog" paragraph names each of them; before
hO62 it left out `gb300-nvl72-superpod` and `mi355x-cluster`, and named `mtia-400-rack` only as "an MTIA-400 rack".
"""

from __future__ import annotations

import re

import pytest
from tests.user_docs import doc_path

from infraplan.catalog import list_presets, load_accelerator, load_system
from infraplan.cluster.host_share import host_share

# part: (standing, board power W) -- frontier.md "Power and chips"; the datasheet parts' power from their files
PARTS = {
    "h800": ("datasheet", 700.0), "b200": ("datasheet", 1000.0), "b300": ("datasheet", 1100.0),
    "gb200": ("datasheet", 1200.0), "gb300": ("datasheet", 1400.0), "mi325x": ("datasheet", 1000.0),
    "mi355x": ("datasheet", 1400.0), "tpu-v6e": ("datasheet", 300.0), "rubin": ("preliminary", 2300.0),
    "mtia-300": ("secondary", 800.0), "mtia-400": ("secondary", 1200.0), "mtia-450": ("secondary", 1400.0),
}
# system: (accelerator, scale-up domain)
SYSTEMS = {
    "dgx-b200": ("b200", 8), "dgx-b300": ("b300", 8), "gb200-nvl72": ("gb200", 72), "gb300-nvl72": ("gb300", 72),
    "gb200-nvl72-superpod": ("gb200", 72), "gb300-nvl72-superpod": ("gb300", 72), "mi355x-cluster": ("mi355x", 8),
    "mtia-400-rack": ("mtia-400", 72),
}
NVL72 = ["gb200-nvl72", "gb300-nvl72", "gb200-nvl72-superpod", "gb300-nvl72-superpod"]


def test_every_named_entry_is_shipped() -> None:
    assert set(PARTS) <= set(list_presets("accelerators"))
    assert set(SYSTEMS) <= set(list_presets("systems"))


@pytest.mark.parametrize("name", sorted(PARTS))
def test_each_part_states_its_standing_and_board_power(name: str) -> None:
    part = load_accelerator(name)
    standing, watts = PARTS[name]
    assert part.figures == standing and part.tdp_w == watts
    assert part.source.strip()
    if standing != "datasheet":
        assert standing.upper() in part.display_name and standing.upper() in part.source


def test_mtia_400_and_450_memory_as_frontier_md_gives() -> None:
    assert load_accelerator("mtia-400").memory_bytes == 288e9
    assert load_accelerator("mtia-400").memory_bandwidth_bytes_per_s == pytest.approx(9.2e12)
    assert load_accelerator("mtia-450").memory_bandwidth_bytes_per_s == pytest.approx(18.4e12)


def test_h800_is_h100_with_400_gb_s_nvlink() -> None:
    h800, h100 = load_accelerator("h800"), load_accelerator("h100-sxm")
    assert h800.scale_up_bandwidth_bytes_per_s == 200e9 < h100.scale_up_bandwidth_bytes_per_s  # a direction
    assert (h800.peak("bf16"), h800.peak("fp8"), h800.memory_bytes, h800.memory_bandwidth_bytes_per_s) == (
        h100.peak("bf16"), h100.peak("fp8"), h100.memory_bytes, h100.memory_bandwidth_bytes_per_s)


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_each_system_runs_its_part_in_its_domain(name: str) -> None:
    system = load_system(name)
    accelerator, domain = SYSTEMS[name]
    assert system.accelerator == accelerator and system.node.scale_up_domain == domain
    assert system.total_accelerators % domain == 0 and system.source.strip()


@pytest.mark.parametrize("name", NVL72)
def test_nvl72_racks_give_each_gpu_1_8_tb_s_nvlink_and_800_gb_s_out(name: str) -> None:
    system = load_system(name)
    node = system.node
    assert load_accelerator(system.accelerator).scale_up_bandwidth_bytes_per_s == 900e9  # 1.8 TB/s both ways
    assert node.nics_per_node * node.nic_bandwidth_bytes_per_s / node.accelerators_per_node == 800e9 / 8


def test_the_gb200_rack_draws_its_boards_plus_trays_within_the_quoted_range() -> None:
    share = host_share("gb200")
    rack_kw = 72 * (load_accelerator("gb200").tdp_w + share.watts) / 1e3
    assert share.basis == "system" and 120.0 <= rack_kw <= 132.0  # 122.4 kW


def test_the_readme_catalog_paragraph_names_every_entry() -> None:
    """Each part and system by its preset name, `x(-superpod)` naming both the rack and its SuperPOD, `a/b` both
    `a` and `a`'s family with `b` (`dgx-b200/b300`), `mtia-300/400/450` the three MTIA parts."""
    readme = re.sub(r"\s+", " ", doc_path("modelling").read_text())  # "What is modelled" (docs/, hM64)
    catalog = readme[readme.index("- **Catalog**"):readme.index("- **Kernels**")]
    named: set[str] = set()
    for span in re.findall(r"`([^`]+)`", catalog):
        for word in span.split():
            base = word.replace("(-superpod)", "")
            named |= {base, base + "-superpod"} if "(-superpod)" in word else {base}
            head, *rest = base.split("/")
            stem = re.sub(r"[^-]+$", "", head)  # dgx-b200 -> dgx-, mtia-300 -> mtia-
            named |= {head, *(stem + r for r in rest)}
    wanted = set(PARTS) | set(SYSTEMS)
    assert wanted <= named, sorted(wanted - named)
