"""hK (session 55): torchtitan's published runs used Meta's non-standard H100s (HBM2e, a lower TDP, a peak "between
SXM and NVL" that torchtitan's H100 benchmark doc does not know: RECALLED). The out-of-sample rows ran them on the
standard H100 SXM. The part is now an accelerator file beside those rows
(validation/notes/out_of_sample_s52/h100-96gb-hbm2e-lowtdp.yaml, `extends: h100-sxm`), with a system file that only
swaps the part. Its peak is the doc's lower (NVL) end, and a second file holds the SXM end for oos.py's error band.
The part is not a preset, so no gated case can run on it. Every test here fails on the tree before the change,
because the files do not exist there."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.loader import is_what_if, preset_files
from infraplan.cluster import Cluster
from infraplan.training.estimate import estimate_training
from infraplan.validation.runner import load_cases

OOS = Path(__file__).resolve().parents[2] / "validation" / "notes" / "out_of_sample_s52"
PART = OOS / "h100-96gb-hbm2e-lowtdp.yaml"
PART_SXM_END = OOS / "h100-96gb-hbm2e-lowtdp-sxm-end.yaml"
SYSTEM = OOS / "torchtitan-h100-lowtdp.yaml"
SYSTEM_SXM_END = OOS / "torchtitan-h100-lowtdp-sxm-end.yaml"
H100_NVL_BF16 = 835e12  # torchtitan 0.1.0 torchtitan/tools/utils.py:89-90 (`get_peak_flops`, "NVL")


def test_the_part_loads_as_an_h100_what_if_with_its_standing_said() -> None:
    part = load_accelerator(str(PART))
    assert part.name == "h100-96gb-hbm2e-lowtdp" and part.catalog_name == "h100-sxm" and is_what_if(part)
    assert part.figures == "secondary" and part.figures_note.startswith("SECONDARY figures: torchtitan")
    assert part.memory_type == "HBM2e" and "RECALLED" in part.source
    assert part.name not in preset_files("accelerators")  # a file beside the rows, not a preset


def test_its_peak_sits_inside_the_docs_bound_at_the_nvl_end() -> None:
    sxm, part, sxm_end = (load_accelerator(r) for r in ("h100-sxm", str(PART), str(PART_SXM_END)))
    assert H100_NVL_BF16 <= part.peak("bf16") <= sxm.peak("bf16")
    assert part.peak("bf16") == H100_NVL_BF16  # the shipped default: the lower end
    assert sxm_end.peak_flops_per_s == sxm.peak_flops_per_s  # the band's other end
    for p in (part, sxm_end):  # Hopper's dtype ratios kept at either end
        assert p.peak("fp8") == pytest.approx(2 * p.peak("bf16"), rel=1e-3)
        assert p.peak("tf32") == pytest.approx(p.peak("bf16") / 2, rel=1e-3)
        assert p.efficiency == sxm.efficiency  # the same die's measured fractions


def test_its_memory_is_six_hbm2e_stacks() -> None:
    sxm, a100, part = (load_accelerator(r) for r in ("h100-sxm", "a100-80gb", str(PART)))
    assert part.memory_bytes == pytest.approx(6 / 5 * sxm.memory_bytes, rel=1e-4)  # 95.6 GiB ("95 GiB")
    assert part.memory_bandwidth_bytes_per_s == pytest.approx(6 / 5 * a100.memory_bandwidth_bytes_per_s, rel=0.01)
    assert part.memory_bandwidth_bytes_per_s < sxm.memory_bandwidth_bytes_per_s  # HBM2e, not the SXM's HBM3
    assert part.tdp_w < sxm.tdp_w  # "limited to a lower TDP"


def test_the_system_swaps_only_the_part() -> None:
    base, mine, sxm_end = (Cluster.resolve(r) for r in ("dgx-h100-superpod", str(SYSTEM), str(SYSTEM_SXM_END)))
    assert mine.accelerator.name == "h100-96gb-hbm2e-lowtdp"
    assert sxm_end.accelerator.name == "h100-96gb-hbm2e-lowtdp-sxm-end"
    for other in (mine, sxm_end):
        assert other.system.node == base.system.node and other.system.network == base.system.network
    assert all("h100-96gb" not in str(case["system"]) and "lowtdp" not in str(case["system"]) for case in load_cases())


def test_torchtitan_8b_runs_slower_on_it_and_the_band_is_ordered() -> None:
    """The paper's 8B row (8 GPUs, FSDP, seq 8,192, selective AC, torchtitan): the part is slower than an H100 SXM,
    at both ends; the NVL end is the slower one."""
    step = {name: estimate_training("llama3.1-8b", system, 8, dp=8, vpp=1, seq_len=8192, global_batch=8, zero=3,
                                    recompute="selective", stack="torchtitan").step_time_s
            for name, system in (("sxm", "dgx-h100-superpod"), ("nvl_end", str(SYSTEM)),
                                 ("sxm_end", str(SYSTEM_SXM_END)))}
    assert step["sxm"] < step["sxm_end"] < step["nvl_end"]
    parts = [load_accelerator(r) for r in ("h100-sxm", str(PART))]
    slowest = max(parts[0].peak("bf16") / parts[1].peak("bf16"),
                  parts[0].memory_bandwidth_bytes_per_s / parts[1].memory_bandwidth_bytes_per_s)
    assert step["nvl_end"] / step["sxm"] <= slowest  # no term slows more than the slower of its two rates
