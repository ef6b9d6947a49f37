"""Mutation wave hM24 (session 46) on a part written as files (hA50): what `catalog.figures.defaults_note` names as
borrowed, each figure checked against `Accelerator.matmul_fraction` (the code that prices the GEMMs), the order of
`figures_notes`, and `catalog.loader_kinds`' refusal of a system file (which keys make one, which path it names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.catalog.test_part_from_files_hA50 import RACK, XPU, write

from infraplan.catalog.figures import defaults_note, figures_notes
from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.loader_kinds import SYSTEM_KEYS
from infraplan.catalog.schemas import Accelerator, System
from infraplan.errors import InputError


def _part(tmp_path: Path, name: str, **fields: Any) -> Accelerator:
    return load_accelerator(write(tmp_path, f"{name}.yaml", {**XPU, "name": name, **fields}))


def test_the_borrowed_gemm_fractions_are_the_ones_the_gemms_are_priced_at(tmp_path: Path) -> None:
    """A part with fp16, fp8 and nvfp4 fractions only: bf16 takes fp16's (`matmul_fraction`), so it borrows nothing
    and is not named; int8 takes fp8's (0.6, not the bf16 / fp16 0.75: the same 8-bit MMA at one peak,
    `Accelerator.same_mma_dtype`, hQ69); fp4, tf32 and fp32 are no GEMM dtype priced at their own peak (fp4 runs as
    nvfp4), so none is named though none has a fraction."""
    eff = {**XPU["efficiency"], "matmul_max_fraction": {"fp16": 0.75, "fp8": 0.6, "nvfp4": 0.5}}
    peaks = {"fp32": 1e14, "tf32": 5e14, "fp16": 1.5e15, "bf16": 1.5e15, "fp8": 3e15, "int8": 3e15, "fp4": 6e15,
             "nvfp4": 6e15}
    acc = _part(tmp_path, "xpu-3", efficiency=eff, peak_flops_per_s=peaks)
    note = defaults_note(acc, "training")
    assert note is not None
    assert acc.matmul_fraction("bf16") == 0.75 and "bf16 at" not in note
    assert acc.matmul_fraction("int8") == 0.6 and "int8 at fp8's 0.6" in note
    assert "(int8 at fp8's 0.6)" in note  # the only one borrowed
    for dtype in ("fp4", "tf32", "fp32"):
        assert f"{dtype} at" not in note


def test_tn_only_layouts_are_named_only_where_the_file_neither_sources_them_nor_lacks_fp8(tmp_path: Path) -> None:
    """Hopper's TN-only fp8 layouts are a default only where fp8 trains at all and the file gives no source for its
    layouts: a sourced ["tn"] is the part's own figure; a part without an fp8 peak has no fp8 GEMM."""
    sourced = _part(tmp_path, "xpu-4", fp8_gemm_layouts=["tn"], fp8_gemm_layouts_source="Acme ISA manual sec. 4")
    assert "TN only" not in (defaults_note(sourced, "training") or "")
    eff = {**XPU["efficiency"], "matmul_max_fraction": {"bf16": 0.7}}
    no_fp8 = _part(tmp_path, "xpu-5", efficiency=eff, peak_flops_per_s={"bf16": 1.5e15})
    note = defaults_note(no_fp8, "training")
    assert note is not None and "TN only" not in note
    assert "TN only" in (defaults_note(_part(tmp_path, "xpu-6"), "training") or "")


def test_figures_notes_run_standing_then_use_then_defaults(tmp_path: Path) -> None:
    """The docstring's order: the figures' standing, a use other than the source's, then the defaults."""
    acc = _part(tmp_path, "xpu-7", figures="secondary", figures_note="SECONDARY figures: a trade-press article",
                intended_use={"work": "inference", "models": "generative-ai"})
    notes = figures_notes(acc, "training")
    assert len(notes) == 3
    assert notes[0].startswith("xpu-7: SECONDARY figures")
    assert "is described by its source for generative-AI inference" in notes[1]
    assert "ASSUMED from defaults" in notes[2]


RACK_KEYS = ("network", "node", "total_accelerators")  # System's own fields, less `accelerator` (the file it names)


def test_each_system_key_is_a_system_field_and_no_accelerator_field() -> None:
    assert set(RACK_KEYS) <= set(System.model_fields) and not set(RACK_KEYS) & set(Accelerator.model_fields)
    assert set(System.model_fields) >= SYSTEM_KEYS and not SYSTEM_KEYS & set(Accelerator.model_fields)


@pytest.mark.parametrize("key", RACK_KEYS)
def test_a_file_with_any_one_system_key_is_named_a_system_file(tmp_path: Path, key: str) -> None:
    """A rack file being written (one system key so far, its `accelerator:` named) is still a system file."""
    write(tmp_path, "xpu-1.yaml", XPU)
    partial = write(tmp_path, "rack.yaml", {"accelerator": "xpu-1.yaml", key: RACK[key]})
    with pytest.raises(InputError, match="is a system file"):
        load_accelerator(partial)


def test_an_accelerator_file_with_a_stray_system_key_is_read_as_an_accelerator(tmp_path: Path) -> None:
    """`peak_flops_per_s` makes it an accelerator's file: a stray `node:` is its unknown field, not a system file."""
    stray = write(tmp_path, "xpu-8.yaml", {**XPU, "name": "xpu-8", "node": RACK["node"]})
    with pytest.raises(InputError) as err:
        load_accelerator(stray)
    assert "is a system file" not in str(err.value) and "node" in str(err.value)


def test_the_accelerator_file_named_is_the_path_to_give_from_here(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The rack in racks/ names `accelerator: xpu-1.yaml`, read beside it: the line names racks/xpu-1.yaml (a file
    that exists from the working folder), not the bare name (which does not)."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "racks", "xpu-1.yaml", XPU)
    write(tmp_path / "racks", "rack.yaml", RACK)
    with pytest.raises(InputError) as err:
        load_accelerator("racks/rack.yaml")
    text = str(err.value)
    assert ": racks/xpu-1.yaml;" in text and Path("racks/xpu-1.yaml").exists() and not Path("xpu-1.yaml").exists()
