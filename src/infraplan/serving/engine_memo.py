"""Whole engine runs remembered within a scope: an engine asked the same question twice answers from memory.

What is modelled: nothing new. `serving_engine.fcfs_engine` is a pure function of its inputs (the iteration cost's
tables and figures, the requests' arrival times, prompt, cached and decode-step counts, the batch cap, token
budget, KV blocks, block size, closed-loop clients and whether a KV bind stops it): the same inputs give the same
floats. Inside `kept_engine_runs` (a context manager, also a decorator) a run's fields are kept under a digest of
every input and a later run with the same digest returns a copy of them. `planning.scenario.plan_scenario` sizes an
LLM service under it on the pools that name different systems of one part, from the first such pool to the last
(`planning.scenario_sizing.shared_part_pools`); elsewhere the digests would cost ~2 % for no hit (gigawatt-2027; the
rest of meta-2024's searches, ~7 %, until hA63 kept its whole plan under it).

Why (hS, session 55, validation/notes/serving_speed_tried.md): `plan examples/meta-2024.yaml` searches serve-plan
on `meta-rsc` and on `dgx-a100-superpod`, both A100 80GB nodes of 8 on different fabrics (and prices); every layout
inside one node costs the same on both, so 15 of the second search's whole runs repeated the first's engine runs
bit for bit: 17,147 of 49,129 engine runs, 6-7 s of its ~28 s CPU. The serve-plan searches themselves are keyed on
the system name (`planning.fleet_mix_llm.serve_plan_search`) and cannot see that.

The key: a SHA-256 digest of the inputs (arrays with their dtype and shape; the cost's fields by
name, numbers by `repr`, exact for floats). Outside a scope nothing is kept or looked up (a lone `serve` run's
memory is unchanged). Within one, the kept runs are bounded by MAX_BYTES of their arrays, the least recently used
dropped first; the last scope to close drops them all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from infraplan.identity_memo import KeptScopes
from infraplan.serving.llm_iteration import IterationCost

# kept arrays (first-token and finish times: 16 bytes a request-run); meta-2024 recalls all 17,147 repeats within
# 64 MB and none within 32 MB (its whole runs of one search between the two A100 searches), so twice that
MAX_BYTES = 128 * 2**20

_LOCK = threading.Lock()  # (web jobs search in threads)
_RUNS: OrderedDict[bytes, tuple[Any, ...] | None] = OrderedDict()  # digest -> kept fields (None: a KV bind)
_BYTES = [0]
_COSTS: dict[int, tuple[weakref.ref[IterationCost], bytes]] = {}  # id -> (the cost, its digest)


def _drop_runs() -> None:
    _RUNS.clear()
    _COSTS.clear()
    _BYTES[0] = 0


_SCOPES = KeptScopes(_drop_runs, _LOCK)  # the open `kept_engine_runs` scopes


@contextmanager
def kept_engine_runs() -> Iterator[None]:
    """Within (also as a decorator): engine runs are kept and recalled (module docstring); after the last scope
    closes they are dropped."""
    with _SCOPES.scope():
        yield


def _feed(h: Any, value: Any) -> None:
    """Feed one input to the digest: an array as its dtype, shape and bytes, anything else as its repr."""
    if isinstance(value, np.ndarray):
        h.update(f"a{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).data.cast("B"))  # (no copy of a contiguous array)
    else:
        h.update(f"r{type(value).__name__}:{value!r};".encode())


def cost_digest(cost: IterationCost) -> bytes:
    """The digest of every field of `cost` (by name), computed once per cost object while a scope is open."""
    kept = _COSTS.get(id(cost))
    if kept is not None and kept[0]() is cost:
        return kept[1]
    h = hashlib.sha256()
    for f in dataclasses.fields(cost):
        h.update(f.name.encode())
        value = getattr(cost, f.name)
        _feed(h, sorted(value.items(), key=repr) if isinstance(value, dict) else value)
    digest = h.digest()
    with _LOCK:
        _COSTS[id(cost)] = (weakref.ref(cost), digest)
    return digest


def run_key(cost: IterationCost, *inputs: Any) -> bytes | None:
    """The digest of a run of `cost` on `inputs` (arrays and numbers, in the caller's order), or None outside a
    scope (nothing is kept then)."""
    if _SCOPES.open <= 0:
        return None
    h = hashlib.sha256(cost_digest(cost))
    for value in inputs:
        if isinstance(value, np.ndarray):
            _feed(h, value)
    _feed(h, tuple(v for v in inputs if not isinstance(v, np.ndarray)))  # the numbers, in order, as one repr
    return h.digest()


def _copy(fields: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(np.array(v) if isinstance(v, np.ndarray) else v for v in fields)


def recall(key: bytes) -> tuple[bool, tuple[Any, ...] | None]:
    """(whether a run under `key` is kept, a copy of its fields or None where it stopped at a KV bind)."""
    with _LOCK:
        if key not in _RUNS:
            return False, None
        _RUNS.move_to_end(key)
        fields = _RUNS[key]
    return True, None if fields is None else _copy(fields)


def keep(key: bytes, fields: tuple[Any, ...] | None) -> None:
    """Keep a copy of a run's `fields` (None: it stopped at a KV bind) under `key`, dropping the least recently
    used runs beyond MAX_BYTES."""
    kept = None if fields is None else _copy(fields)
    size = 0 if kept is None else sum(v.nbytes for v in kept if isinstance(v, np.ndarray))
    with _LOCK:
        if _SCOPES.open <= 0 or size > MAX_BYTES:
            return
        if key in _RUNS:
            return
        _RUNS[key] = kept
        _BYTES[0] += size
        while _BYTES[0] > MAX_BYTES:
            _, old = _RUNS.popitem(last=False)
            _BYTES[0] -= 0 if old is None else sum(v.nbytes for v in old if isinstance(v, np.ndarray))


def kept_runs() -> int:
    """How many runs are kept now (tests)."""
    return len(_RUNS)
