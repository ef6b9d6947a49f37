"""Review of session 54's measured host floor and CPU server size (hF, session 54).

- A stack's `host_per_sequence_s` had no upper bound: 1e300 passed validation and `serve` died in the engine loop
  with an OverflowError traceback (engine_loop.py `ceil(k_arr)` of inf); now at most 1 s, one InputError line.
- `host_per_sequence_measured: true` without a figure (0, e.g. a user's file extending sglang-0.5.6-mixed-chunk and
  zeroing the figure) ran silently with no floor; now refused, naming the fix.
- `devices_per_server` on a part that a catalog system houses (a what-if `extends: h100-sxm`) was silently ignored
  (the reference system's node of 8 won); now refused unless it equals that node's size.
The refusal tests fail on 62a3079 (checked by stashing the src change); 1 s taken is the bound's guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.stacks import load_stack
from infraplan.cluster.generic import generic_node
from infraplan.errors import InputError
from infraplan.serving import host_overhead

STACKS = Path(host_overhead.__file__).resolve().parents[1] / "validation" / "data" / "stacks"


def _stack(tmp_path: Path, body: str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {STACKS / 'sglang-0.5.6-mixed-chunk.yaml'}\nname: mine\nserving:\n{body}")
    return str(path)


@pytest.mark.parametrize("figure", ["1e300", "1.0000001"])
def test_a_huge_host_figure_is_one_line(tmp_path: Path, figure: str) -> None:
    with pytest.raises(InputError, match="host_per_sequence_s.*less than or equal to 1"):
        load_stack(_stack(tmp_path, f"  host_per_sequence_s: {figure}\n"))


def test_one_second_is_taken(tmp_path: Path) -> None:
    serving = load_stack(_stack(tmp_path, "  host_per_sequence_s: 1.0\n")).serving
    assert serving is not None and serving.host_per_sequence_s == 1.0 and serving.host_per_sequence_measured


def test_measured_without_a_figure_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="host_per_sequence_measured: true needs the measured host_per_sequence_s"):
        load_stack(_stack(tmp_path, "  host_per_sequence_s: 0\n"))
    # turning the measured flag off with the figure is the way to drop the floor
    serving = load_stack(_stack(tmp_path, "  host_per_sequence_s: 0\n  host_per_sequence_measured: false\n")).serving
    assert serving is not None and serving.host_per_sequence_s == 0.0


def _part(tmp_path: Path, per: int) -> str:
    path = tmp_path / "h100-dps.yaml"
    path.write_text(f"extends: h100-sxm\nname: h100-dps\ndevices_per_server: {per}\nhost_source: test\n")
    return str(path)


def test_devices_per_server_on_a_housed_part_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="devices_per_server 4 is for a part no catalog system houses"):
        generic_node(load_accelerator(_part(tmp_path, 4)))
    node, _, _ = generic_node(load_accelerator(_part(tmp_path, 8)))  # its reference node's own size: taken
    assert node.accelerators_per_node == 8
