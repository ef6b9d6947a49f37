"""`fcfs_loop.loop_for` once numba is in the process (hI73 mutant: dropping `not numba_loaded()` passed hQ72's tests).

hQ72's rule (serving_speed_tried.md): a request costs 7.6-16 us of CPU through the loop as written and 0.1-0.5 us
through the numba build, and the build's load (~0.3-0.4 s) is what the first COMPILE_AFTER requests are spared. Once
numba is loaded (by an earlier long run, or anything else in the process) there is nothing to spare: every run takes
the build, and the as-written budget is not spent. The two give the same bits (hQ72), so only the dispatch is
checked, with stand-ins for the kernels: no numba needed.
"""

from __future__ import annotations

import pytest

from infraplan.serving import fcfs_core, fcfs_loop


def _built(*_: object) -> int:
    return 0


def test_a_process_with_numba_loaded_runs_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fcfs_loop, "_RUN_AS_WRITTEN", [0])
    monkeypatch.setattr(fcfs_loop, "numba_kernels", lambda: {"fcfs_run": _built})
    monkeypatch.setattr(fcfs_loop, "numba_loaded", lambda: True)
    assert fcfs_loop.loop_for(10) is _built
    assert fcfs_loop._RUN_AS_WRITTEN == [0]
    monkeypatch.setattr(fcfs_loop, "numba_loaded", lambda: False)
    assert fcfs_loop.loop_for(10) is fcfs_core.fcfs_run  # not loaded: the first runs as written, counted
    assert fcfs_loop._RUN_AS_WRITTEN == [10]
    assert fcfs_loop.loop_for(fcfs_loop.COMPILE_AFTER - 9) is _built  # 10 + this one pass COMPILE_AFTER
