"""A hardware architect's part written from files (hA50, session 45): an accelerator of no preset, its rack system.

What its answers borrow where the file gives no measured curve is named (`catalog.figures.defaults_note`), and each
claim of that note is checked against the code that prices it; a system file given where an accelerator is asked
is one line naming the accelerator file to give (`catalog.loader_kinds`); the catalog schema states bounds in JSON
Schema's words (`catalog.entry_schemas`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog import entry_schemas as es
from infraplan.catalog.figures import RATE_FALLBACK, defaults_note, figures_notes
from infraplan.catalog.loader import load_accelerator, load_system
from infraplan.errors import InputError
from infraplan.network import nvlink_all_reduce, nvlink_collectives
from infraplan.ops.precision import RECIPES, skips_transposed_copy

XPU: dict[str, Any] = {
    "name": "xpu-1", "display_name": "Acme XPU-1", "vendor": "Acme", "kind": "asic", "source": "test part",
    "peak_flops_per_s": {"bf16": 1.5e15, "fp8": 3e15, "fp4": 6e15, "nvfp4": 6e15, "mxfp8": 3e15},
    "memory_bytes": "216GB", "memory_bandwidth_bytes_per_s": "8TB/s", "memory_type": "HBM3e", "tdp_w": "900W",
    "scale_up_bandwidth_bytes_per_s": "1.2TB/s", "scale_out_bandwidth_bytes_per_s": "800Gbps",
    "efficiency": {"matmul_max_fraction": {"bf16": 0.7, "fp4": 0.55}, "attention_max_fraction": 0.5,
                   "memory_bandwidth_fraction": 0.85, "compute_units": 160, "kernel_overhead_s": 5e-6,
                   "scale_up_collective_efficiency": 0.8, "source": "ASSUMPTION: pre-silicon targets"},
}
RACK: dict[str, Any] = {
    "display_name": "XPU-1 racks", "source": "test rack", "accelerator": "xpu-1.yaml", "total_accelerators": 256,
    "node": {"accelerators_per_node": 4, "scale_up_domain": 64, "nics_per_node": 4,
             "nic_bandwidth_bytes_per_s": "800Gbps", "host_power_w": "1200W"},
    "network": {"kind": "roce", "collective_efficiency": 0.9,
                "tiers": [{"name": "rack", "group_size": 64, "switch_radix": 64},
                          {"name": "cluster", "group_size": 256, "switch_radix": 64}]},
}


def write(folder: Path, name: str, data: dict[str, Any]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture
def xpu(tmp_path: Path) -> str:
    return write(tmp_path, "xpu-1.yaml", XPU)


def test_a_part_of_no_preset_names_the_curves_it_borrows(xpu: str) -> None:
    acc = load_accelerator(xpu)
    note = defaults_note(acc, "training")
    assert note is not None and note.startswith("xpu-1: ") and "ASSUMED" in note
    # the in-domain collectives: H100's all-reduce table and no measured all-gather / all-to-all table of its own
    assert "H100's measured NCCL and custom all-reduce" in note and "SimAI's NVLink curve" in note
    assert nvlink_all_reduce.table_file(acc.catalog_name) == nvlink_all_reduce.TABLE_FILE
    assert "h100" in nvlink_all_reduce.TABLE_FILE
    assert nvlink_collectives.measured_column(acc.catalog_name, True, 8.0) is None
    assert nvlink_collectives.measured_column(acc.catalog_name, False, 4.0) is None
    # GEMM fractions: fp8 takes bf16's, nvfp4 its fp4 one, mxfp8 fp8's (here none: bf16's), as ops.precision does
    assert "fp8 at the bf16 fraction 0.7" in note and "nvfp4 at fp4's 0.55" in note
    assert "mxfp8 at the bf16 fraction 0.7" in note
    assert RECIPES["fp8"].gemm_flops_per_s(acc) == pytest.approx(3e15 * 0.7)
    assert RECIPES["nvfp4"].gemm_flops_per_s(acc) == pytest.approx(6e15 * 0.55)
    assert RECIPES["mxfp8"].gemm_flops_per_s(acc) == pytest.approx(3e15 * 0.7)
    # Hopper's TN-only fp8 layouts: a per-tensor cast writes its transposed copy
    assert "fp8 GEMM layouts TN only" in note and not skips_transposed_copy(acc.fp8_gemm_layouts, "delayed")
    assert "attention_exp_per_s" in note
    assert "decode_attention" not in note  # a serving fit: said for inference only
    serving = defaults_note(acc, "inference")
    assert serving is not None and "fp8 GEMM layouts" not in serving
    assert "decode_attention, mla_decode_attention, mla_absorb_bmm, weight_read_fraction unset" in serving


def test_rate_fallbacks_are_the_recipes(xpu: str) -> None:
    for dtype, related in RATE_FALLBACK.items():
        assert RECIPES[dtype].rate_dtypes == (dtype, related)


def test_only_what_the_file_omits_is_named(tmp_path: Path) -> None:
    eff = {**XPU["efficiency"], "matmul_max_fraction": {"bf16": 0.7, "fp8": 0.6, "fp4": 0.5, "nvfp4": 0.5,
                                                          "mxfp8": 0.6},
           "attention_exp_per_s": 4e12,
           "decode_attention": {"vllm": {"fp8": {"fixed_s": 1e-5, "kv_read_fraction": 0.8}}}}
    full = load_accelerator(write(tmp_path, "xpu-2.yaml", {**XPU, "name": "xpu-2", "efficiency": eff,
                                                           "fp8_gemm_layouts": ["tn", "nn", "nt"],
                                                           "fp8_gemm_layouts_source": "Acme ISA manual"}))
    training, serving = defaults_note(full, "training"), defaults_note(full, "inference")
    assert training is not None and serving is not None
    for text in (training, serving):
        assert "H100's measured" in text  # no table of its own, whatever its file says
        assert "matmul_max_fraction omits" not in text and "attention_exp_per_s" not in text
    assert "fp8 GEMM layouts" not in training
    assert "; mla_decode_attention, mla_absorb_bmm, weight_read_fraction unset" in serving  # decode_attention given


def test_presets_and_their_what_ifs_carry_no_defaults_note(tmp_path: Path) -> None:
    for name in ("h100-sxm", "mi300x", "mtia-400"):
        assert defaults_note(load_accelerator(name), "training") is None
    what_if = write(tmp_path, "h100-fast.yaml", {"extends": "h100-sxm", "memory_bandwidth_bytes_per_s": "5TB/s"})
    assert defaults_note(load_accelerator(what_if), "inference") is None


def test_figures_notes_add_it_for_generative_work_only(xpu: str) -> None:
    acc = load_accelerator(xpu)
    assert any("ASSUMED from defaults" in n for n in figures_notes(acc, "training"))
    assert any("ASSUMED from defaults" in n for n in figures_notes(acc, "inference"))
    assert not any("ASSUMED from defaults" in n for n in figures_notes(acc, "inference", "recommendation"))
    assert figures_notes(acc) == []  # facility, a fleet's pool: no kernels priced


def test_a_system_file_where_an_accelerator_is_asked_is_one_line(tmp_path: Path, xpu: str) -> None:
    rack = write(tmp_path, "rack.yaml", RACK)
    assert load_system(rack).accelerator == xpu  # read beside the rack file
    with pytest.raises(InputError) as err:
        load_accelerator(rack)
    text = str(err.value)
    assert "is a system file" in text and text.endswith("(--system, `device:`)") and Path(xpu).name in text
    assert "vendor" not in text and "\n" not in text
    video = write(tmp_path, "asic.yaml", {"kind": "video-asic", "name": "v"})
    with pytest.raises(InputError, match="is a video device file"):
        load_accelerator(video)


def test_schema_bounds_are_json_schemas_words() -> None:
    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for v in node.values() for k in keys(v)}
        return {k for v in node for k in keys(v)} if isinstance(node, list) else set()

    for kind in ("accelerators", "systems", "recsys", "video-devices", "fleets"):
        assert not keys(es.entry_schema(kind)) & set(es.PYDANTIC_BOUNDS), kind
    acc = es.entry_schema("accelerators")
    assert acc["properties"]["memory_bytes"]["minimum"] == 0  # was "ge": 0
    assert acc["$defs"]["KernelEfficiency"]["properties"]["scale_up_collective_efficiency"]["unit"] == \
        "dimensionless, 0-1"
    assert es.entry_schema("systems")["$defs"]["Network"]["properties"]["collective_efficiency"]["maximum"] == 1
