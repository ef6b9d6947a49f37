"""Idle board power and streaming memory bandwidth on a real GPU: what the catalog's `idle_power_w` and
`memory_bandwidth_fraction` assume.

First, before any work: five `nvidia-smi` samples of power, clocks and temperature at idle (the catalog's H100 / H200
idle figures are ASSUMPTIONS). Then, per buffer size (256 MiB-4 GiB, several times the L2): a device-to-device copy
(bytes read + bytes written), a write-only fill and a read-only reduction, each the median of 20 timed runs
(device events) after warm-up, as bytes/s and as a fraction of the datasheet bandwidth given with `--datasheet`.
Prints one JSON line per measurement. usage: python benchmarks/gpu/gpu_memory_probe.py [--datasheet 4.8e12]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections.abc import Callable

from _timing import median_event_seconds

QUERY = "name,power.draw,power.limit,clocks.sm,clocks.mem,temperature.gpu,pstate,driver_version"


def idle_samples(count: int = 5) -> list[str]:
    """nvidia-smi's CSV line once a second, read before this process touches the GPU."""
    lines = []
    for _ in range(count):
        out = subprocess.run(["nvidia-smi", f"--query-gpu={QUERY}", "--format=csv,noheader"], capture_output=True,
                             text=True, check=False)
        lines.append(out.stdout.strip() or out.stderr.strip())
        time.sleep(1.0)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasheet", type=float, default=4.8e12, help="datasheet bytes/s (H200 4.8e12)")
    args = parser.parse_args()
    print(json.dumps({"idle_nvidia_smi": QUERY, "samples": idle_samples()}), flush=True)
    import torch

    for mib in (256, 1024, 4096):
        n = mib * 2**20 // 2
        src = torch.randn(n, device="cuda", dtype=torch.bfloat16)
        dst = torch.empty_like(src)
        nbytes = n * 2
        kernels: dict[str, tuple[Callable[..., object], int]] = {
                   "copy": (lambda s=src, d=dst: d.copy_(s), 2 * nbytes),
                   "fill": (lambda d=dst: d.fill_(1.5), nbytes),
                   "read_sum": (lambda s=src: s.sum(dtype=torch.float32), nbytes)}
        for name, (fn, moved) in kernels.items():
            seconds = median_event_seconds(torch, fn, runs=20)
            print(json.dumps({"kernel": name, "buffer_mib": mib, "bytes_moved": moved, "seconds": seconds,
                              "bytes_per_s": moved / seconds, "fraction_of_datasheet": moved / seconds / args.datasheet,
                              "device": torch.cuda.get_device_name()}), flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    from _guard import require_cuda

    require_cuda(__file__)
    main()
