"""hR77: `fcfs_state.close_iteration` (hD77: one home for the three copies of an iteration's close in
`fcfs_core.fcfs_run`) is inlined by numba into `fcfs_run` (`fcfs_state.inlined`: `njit(inline="always")`).

Built as every other helper (`njit(cache=True)`), its three calls stayed out of line in `fcfs_run`'s machine code
(`inspect_asm` of an uncached build names `close_iteration`; the base's lines left none), one call on every iteration's
path: benchmarks/serving_sim.py, 1,000,000 requests online, CPU s medians of 6, alternated 4 rounds on the shared
2-core VM: base e4b646de 0.30-0.34, lead's 140afb5b 0.35-0.38, inlined 0.32-0.35. On 140afb5b the build had no
`inline` option and this test failed."""

from __future__ import annotations

import pytest

from infraplan.serving import fcfs_state


def test_close_iteration_is_built_to_be_inlined() -> None:
    pytest.importorskip("numba")
    kernels = fcfs_state.numba_kernels()
    assert kernels["close_iteration"].targetoptions.get("inline") == "always"
    assert kernels["fcfs_run"].targetoptions.get("inline", "never") == "never"  # the loop itself: a call of its own
    assert kernels["cut_marks"].targetoptions.get("inline", "never") == "never"  # (a window cut's, rare: out of line)
