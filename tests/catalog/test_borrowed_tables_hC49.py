"""hC49 (session 46): a preset without a measured in-domain collective table of its own (MI300X, TPU, MTIA, Gaudi 2,
H800, A100, Rubin ...) borrowed H100's all-reduce curves (network.nvlink_all_reduce) and SimAI's NVLink curve
(network.nvlink_collectives) without a word; `catalog.figures.defaults_note` spoke for parts of no preset only. Now
every train / search / serve / serve-plan answer on it names what it borrows (`borrowed_tables_note`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.figures import (
    MEASURED_ALL_REDUCE,
    MEASURED_COLLECTIVES,
    borrowed_tables_note,
    defaults_note,
    figures_notes,
)
from infraplan.catalog.loader import load_accelerator, preset_files
from infraplan.cli import main
from infraplan.network import nvlink_all_reduce, nvlink_collectives


def test_the_catalogs_lists_are_the_network_layers_tables() -> None:
    """The note's lists are the tables the network layer prices with (it sits above the catalog: kept equal here)."""
    own = {name for name in preset_files("accelerators")
           if nvlink_all_reduce.table_file(name) != nvlink_all_reduce.TABLE_FILE}
    assert own | {"h100-sxm"} == MEASURED_ALL_REDUCE
    assert set(nvlink_all_reduce.ACCELERATOR_TABLE_FILES) <= MEASURED_ALL_REDUCE
    assert set(nvlink_collectives.ACCELERATOR_TABLE_FILES) == MEASURED_COLLECTIVES
    assert "aiconfigurator_h100" in nvlink_all_reduce.TABLE_FILE  # the curve the note names is H100's


@pytest.mark.parametrize("name", sorted(preset_files("accelerators")))
def test_each_preset_says_what_it_borrows_and_nothing_more(name: str) -> None:
    acc = load_accelerator(name)
    note = borrowed_tables_note(acc)
    if acc.kind == "cpu" or (name in MEASURED_ALL_REDUCE and name in MEASURED_COLLECTIVES):
        assert note is None
        return
    assert note is not None and note.startswith(f"{name}: ") and "ASSUMED" in note
    assert ("H100's measured NCCL" in note) == (name not in MEASURED_ALL_REDUCE)
    assert ("SimAI's NVLink curve" in note) == (name not in MEASURED_COLLECTIVES)
    assert note in figures_notes(acc, "training") and note in figures_notes(acc, "inference")
    assert note not in figures_notes(acc) + figures_notes(acc, "inference", "recommendation")  # no collective
    assert defaults_note(acc, "training") is None  # one note per part: the preset's, not the new part's


def test_a_what_if_says_what_its_preset_borrows(tmp_path: Path) -> None:
    for preset, borrows in (("mi300x", True), ("h200", False)):
        path = tmp_path / f"{preset}-fast.yaml"
        path.write_text(f"extends: {preset}\nname: {preset}-fast\nmemory_bandwidth_bytes_per_s: 9TB/s\n")
        note = borrowed_tables_note(load_accelerator(str(path)))
        assert (note is not None and note.startswith(f"{preset}-fast: ")) == borrows


@pytest.mark.parametrize(("args", "where"), [
    (["train", "llama3-8b", "--system", "mi300x-cluster", "--gpus", "8", "--seq-len", "4096",
      "--global-batch", "64"], "notes"),
    (["serve", "llama3-70b", "--system", "mi300x-cluster", "--gpus", "8", "--workload", "chat", "--rate", "2"],
     "warnings"),
])
def test_answers_on_a_borrowing_preset_carry_the_note(capsys: pytest.CaptureFixture[str], args: list[str],
                                                      where: str) -> None:
    def lines(argv: list[str]) -> list[str]:
        capsys.readouterr()
        code = main([*argv, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        return list(json.loads(out)[where])

    assert sum("mi300x: no measured collective table of its own" in line for line in lines(args)) == 1
    own = [a if a != "mi300x-cluster" else "dgx-h100-superpod" for a in args]  # the same question on H100
    assert not any("collective table" in line for line in lines(own))
