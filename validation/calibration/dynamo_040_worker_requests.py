"""ai-dynamo 0.4.0's request path to a TensorRT-LLM worker, run on a CPU with a stand-in engine: how many requests and
tokens a second the Dynamo side carries on its own (hD, session 55; validation/notes/serving_hopper_tried.md).

Purpose: the TensorRT-LLM 1.0.0rc3 Llama-3.1-8B rows (validation/data/serving_measured_hopper.csv, Dynamo-served,
AIConfigurator 0.2.0's run.sh.j2 `python3 -m dynamo.trtllm`) cap at ~9.2k output tokens/s AND ~36 requests/s on TP2,
TP4 and TP8 alike. This measures whether the readable part of the path (ai-dynamo-runtime 0.4.0: NATS request, TCP
response stream, the Rust-Python bridge; the worker handler of ai-dynamo 0.4.0 trtllm/request_handlers/
handler_base.py:153-180, copied below in shape) holds either cap. TensorRT-LLM's own LLM API and executor (proxy,
IPC, PyExecutor loop, sampler, responses) are not on PyPI as source (every tensorrt-llm release there is a
wheel_stub sdist pointing at another index) and are not run: the stand-in engine gives every resident request one
token each STEP_S seconds through an asyncio queue, admitting every request at once.

Run (a private venv, never the project's): python3.11 -m venv V; V/bin/pip install ai-dynamo-runtime==0.4.0 uvloop
pydantic; a nats-server (Debian nats-server 2.9, `-js`) and an etcd (Debian etcd 3.4) on local ports; then with
NATS_SERVER=nats://127.0.0.1:PORT and ETCD_ENDPOINTS=http://127.0.0.1:PORT set:
  MODE=worker STEP_S=0.001 V/bin/python validation/calibration/dynamo_040_worker_requests.py &
  MODE=client C=128 ISL=1024 OSL=1 DUR=10 V/bin/python validation/calibration/dynamo_040_worker_requests.py
The client is a closed loop of C clients through the runtime's round-robin client (the path the Rust front end
takes to the worker); it prints one JSON line: requests/s, tokens/s, mean first-response latency.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import uvloop  # type: ignore[import-not-found]
from dynamo.runtime import DistributedRuntime, dynamo_worker  # type: ignore[import-not-found]

STEP_S = float(os.environ.get("STEP_S", "0.001"))


class _Output:
    __slots__ = ("token_ids", "finish_reason", "stop_reason")

    def __init__(self) -> None:
        self.token_ids: list[int] = []
        self.finish_reason: str | None = None
        self.stop_reason: str | None = None


class _Result:
    """What the handler reads of TensorRT-LLM's streamed GenerationResult (outputs[0].token_ids, finished)."""

    __slots__ = ("outputs", "finished")

    def __init__(self) -> None:
        self.outputs = [_Output()]
        self.finished = False


class StandInEngine:
    """One token to every resident request each STEP_S (not TensorRT-LLM: its loop is not readable here)."""

    def __init__(self) -> None:
        self.resident: list[list[Any]] = []  # [queue, result, tokens left]

    async def run(self) -> None:
        while True:
            await asyncio.sleep(STEP_S)
            keep = []
            for item in self.resident:
                queue, result, left = item
                result.outputs[0].token_ids.append(1)
                item[2] = left - 1
                if item[2] <= 0:
                    result.outputs[0].finish_reason = "length"
                queue.put_nowait(result)
                if item[2] > 0:
                    keep.append(item)
                else:
                    queue.put_nowait(None)
            self.resident = keep

    async def generate_async(self, max_tokens: int) -> AsyncIterator[_Result]:
        queue: asyncio.Queue[_Result | None] = asyncio.Queue()
        self.resident.append([queue, _Result(), max_tokens])
        while (result := await queue.get()) is not None:
            yield result


class Handler:
    """ai-dynamo 0.4.0 trtllm/request_handlers/handler_base.py:153-180's per-output body (aggregated mode)."""

    def __init__(self, engine: StandInEngine) -> None:
        self.engine = engine

    async def generate(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        so_far = 0
        async for res in self.engine.generate_async(request["stop_conditions"]["max_tokens"]):
            if res.finished:
                yield {"finish_reason": "stop", "token_ids": []}
                break
            if not res.outputs:
                yield {"finish_reason": "error", "token_ids": []}
                break
            output = res.outputs[0]
            total = len(output.token_ids)
            out: dict[str, Any] = {"token_ids": output.token_ids[so_far:]}
            if output.finish_reason:
                out["finish_reason"] = output.finish_reason
            if output.stop_reason:
                out["stop_reason"] = output.stop_reason
            yield out
            so_far = total


@dynamo_worker(static=False)
async def worker(runtime: DistributedRuntime) -> None:
    component = runtime.namespace("hd").component("tllm")
    await component.create_service()
    engine = StandInEngine()
    _engine_task = asyncio.get_running_loop().create_task(engine.run())  # noqa: F841 (held while serving)
    await component.endpoint("generate").serve_endpoint(Handler(engine).generate)


@dynamo_worker(static=False)
async def client(runtime: DistributedRuntime) -> None:
    clients, isl, osl = (int(os.environ.get(k, d)) for k, d in (("C", "128"), ("ISL", "1024"), ("OSL", "1")))
    duration = float(os.environ.get("DUR", "10"))
    stub = await runtime.namespace("hd").component("tllm").endpoint("generate").client()
    await stub.wait_for_instances()
    request = {"token_ids": list(range(1000, 1000 + isl)), "stop_conditions": {"max_tokens": osl, "ignore_eos": True},
               "sampling_options": {"temperature": 0.0}, "eos_token_ids": [128009], "annotations": []}
    counts = [0, 0]
    firsts: list[float] = []
    deadline = [0.0]

    async def one_client() -> None:
        while time.perf_counter() < deadline[0]:
            start, first = time.perf_counter(), None
            async for item in await stub.round_robin(request):
                first = first if first is not None else time.perf_counter() - start
                counts[1] += len(item.data().get("token_ids", []))
            counts[0] += 1
            firsts.append(first or 0.0)

    deadline[0] = time.perf_counter() + 3.0  # warm-up, drained before the measured phase
    await asyncio.gather(*(one_client() for _ in range(clients)))
    counts[:] = [0, 0]
    firsts.clear()
    start = time.perf_counter()
    deadline[0] = start + duration
    await asyncio.gather(*(one_client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    print(json.dumps({"clients": clients, "isl": isl, "osl": osl, "step_s": STEP_S,
                      "requests_per_s": counts[0] / elapsed,
                      "tokens_per_s": counts[1] / elapsed, "first_response_ms": 1e3 * sum(firsts) / max(len(firsts), 1),
                      "load_average": os.getloadavg()[0]}), flush=True)
    runtime.shutdown()


if __name__ == "__main__":
    uvloop.run(worker() if os.environ.get("MODE", "worker") == "worker" else client())
