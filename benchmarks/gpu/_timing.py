"""Shared timing of the GPU calibration probes (METHOD: warm up, then time on the device's own clock).

`graph_seconds`: the call captured once as a CUDA graph (after warm-up on a side stream, as capture requires) and
the mean of `iters` replays between two device events, so the host's per-launch Python cost is out of the figure,
as it is in an engine or a training step launching from C++ or from graphs. `median_event_seconds`: the median of
`runs` single calls, each between two device events (kernels long enough that launch cost does not matter).
`synced_seconds`: the first probes' method (gpu_layer_calibration.py, gpu_fp8_gemm_calibration.py), kept so their
figures stay comparable: the mean of `iters` eager calls on the host's clock between two device synchronisations,
launch cost included.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def graph_seconds(torch: Any, fn: Callable[..., object], iters: int = 30) -> float:
    """Mean seconds of one replay of `fn` captured as a CUDA graph."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    graph.replay()
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    begin.record()
    for _ in range(iters):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    return begin.elapsed_time(end) / 1e3 / iters


def median_event_seconds(torch: Any, fn: Callable[..., object], runs: int = 10) -> float:
    """Median seconds of `runs` calls of `fn`, each timed between two device events, after three warm-up calls."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        fn()
        end.record()
        end.synchronize()
        times.append(begin.elapsed_time(end) / 1e3)
    return statistics.median(times)


def synced_seconds(torch: Any, fn: Callable[..., object], iters: int = 20, warmup: int = 5) -> float:
    """Mean seconds of one of `iters` eager calls of `fn` on the host's clock between two device synchronisations,
    after `warmup` calls."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters
