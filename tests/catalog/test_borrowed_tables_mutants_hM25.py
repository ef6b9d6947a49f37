"""Mutation wave hM25 (session 47) on `catalog.figures.borrowed_tables_note` (hC49): the note speaks for a preset (or
a what-if of one) only, never for a part of no preset, whose figures `defaults_note` speaks for (one note per part);
and it names the fields the borrowed curves are scaled by, which are the fields the network layer scales them by
(`network.fabric.Fabric`: scale_up_bandwidth_bytes_per_s x efficiency.scale_up_collective_efficiency)."""

from __future__ import annotations

from infraplan.catalog.figures import borrowed_tables_note
from infraplan.catalog.kernel_fits import KernelEfficiency
from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.schemas import Accelerator


def test_a_part_of_no_preset_gets_no_borrowed_tables_note() -> None:
    preset = load_accelerator("mi300x")
    assert borrowed_tables_note(preset) is not None  # the preset borrows both tables
    own = preset.model_copy(update={"name": "my-accelerator", "extends": None})  # the same figures, a new part
    assert own.catalog_name == "my-accelerator"
    assert borrowed_tables_note(own) is None
    relabelled = preset.model_copy(update={"name": "mi300x-fast", "extends": "mi300x"})  # a what-if of the preset
    assert (borrowed_tables_note(relabelled) or "").startswith("mi300x-fast: ")


def test_the_note_names_the_fields_the_curves_are_scaled_by() -> None:
    note = borrowed_tables_note(load_accelerator("mi300x")) or ""
    assert "scale_up_bandwidth_bytes_per_s" in Accelerator.model_fields
    assert "scale_up_collective_efficiency" in KernelEfficiency.model_fields
    assert "scaled to its scale_up_bandwidth_bytes_per_s x scale_up_collective_efficiency" in note
