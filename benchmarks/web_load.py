"""Load test of `infraplan web` on loopback: 50 concurrent clients POST /api/train for 20 s.

Starts the app under uvicorn in this process (one worker, as `infraplan web` runs), then 50 asyncio clients
(httpx) each send `train` requests back to back. Requests vary the global batch over 400 values, so the first
pass computes and later ones hit the content-hash cache; the hit rate is printed. Prints requests/s, p50/p99
latency and the error count (any non-200 is an error); exits 1 on any error.

    .venv/bin/python benchmarks/web_load.py [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import threading
import time

import httpx
import uvicorn

from infraplan.web.app import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _client(url: str, stop_at: float, index: int, latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        i = index
        while time.monotonic() < stop_at:
            body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 8, "seq_len": 4096,
                    "global_batch": 64 * (1 + i % 400)}
            t0 = time.perf_counter()
            try:
                response = await http.post(url, json=body)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:100]}")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            latencies.append(time.perf_counter() - t0)
            i += 50


async def _load(url: str, clients: int, seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(_client(url, stop_at, i, latencies, errors) for i in range(clients)))
    return latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    app = create_app()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    started = time.monotonic()
    latencies, errors = asyncio.run(_load(f"http://127.0.0.1:{port}/api/train", args.clients, args.seconds))
    elapsed = time.monotonic() - started
    server.should_exit = True
    thread.join(timeout=10)
    q = statistics.quantiles(latencies, n=100)
    cache = app.state.cache
    print(f"web load: {args.clients} clients x {args.seconds:.0f} s on POST /api/train (loopback, one process)")
    print(f"requests {len(latencies):,} ({len(latencies) / elapsed:,.0f}/s); latency p50 {q[49] * 1e3:.1f} ms, "
          f"p99 {q[98] * 1e3:.1f} ms; errors {len(errors)}; cache hits {cache.hits:,}, misses {cache.misses:,}")
    for line in sorted(set(errors))[:5]:
        print("  error:", line)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
