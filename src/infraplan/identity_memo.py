"""Values computed from a frozen object, kept by that object's identity: one memo for the constants of a model, a
stack, an accelerator or a fabric that a single estimate asks for several times (issue 18).

Why identity: the objects are frozen pydantic models (`TransformerShape`, `Stack`, `Accelerator`, `Fabric`), and
hashing one hashes every field of it on every call (microseconds each), while a lookup by `id(obj)` costs a few
tens of nanoseconds. An id is reused once its object is freed, so each entry holds the object itself and a hit
asks that the held object `is` the one given: a kept id cannot name another object while its entry lives.

The bound: at `bound` entries the memo is emptied before the next insert (a long-lived process resolving many
models or stacks keeps at most `bound` of them alive). Emptying, not least-recently-used order: the values are
cheap to compute again, and a plain dict's `get` and item assignment are each atomic, so threads sharing a memo
see whole entries without a lock. Memos that need an order or a lock (`training.one_plan_memo`,
`training.plan_rules.check_single_plan`'s verdicts) keep their own. `KeepLast` keeps one answer only, the last (the
message efficiency of `network.collective_efficiency`, asked for twice in a row by an all-reduce's ring and tree).
`KeptScopes` counts the nested scopes within which a memo keeps its entries (`serving.engine_memo`'s engine runs,
`serving.loop_stepping`'s cost tables) and empties it when the last one closes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

V = TypeVar("V")

__all__ = ["IdentityMemo", "KeepLast", "KeptScopes"]


class IdentityMemo(Generic[V]):
    """`get(owner, key)` / `put(owner, key, value)`: values by an owner's identity and an equal hashable `key`
    of the other inputs (module docstring). `get` gives None on a miss, so a value is never None."""

    __slots__ = ("_entries", "bound")

    def __init__(self, bound: int = 256) -> None:
        if bound < 1:
            raise ValueError(f"IdentityMemo bound {bound}: at least 1 entry")
        self.bound = bound
        self._entries: dict[tuple[int, Hashable], tuple[object, V]] = {}

    def get(self, owner: object, key: Hashable = None) -> V | None:
        """The value kept for `owner` (by identity) and `key`; None when there is none."""
        kept = self._entries.get((id(owner), key))
        return kept[1] if kept is not None and kept[0] is owner else None

    def put(self, owner: object, key: Hashable, value: V) -> V:
        """Keep `value` for `owner` and `key` (the entry holds `owner`, so its id is not reused); gives `value`."""
        entries = self._entries
        if len(entries) >= self.bound:
            entries.clear()
        entries[(id(owner), key)] = (owner, value)
        return value

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class KeepLast:
    """The last answer of a pure function, kept by its owner's identity (a frozen fabric) and an equal key of its
    other inputs; `get` gives None on a miss. One (owner, key, value) tuple, read and replaced whole, so threads
    see a consistent entry; the owner is held, so its id is not reused while kept."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: tuple[object, object, Any] = (None, None, None)

    def get(self, owner: object, key: object) -> Any:
        kept = self._kept
        return kept[2] if kept[0] is owner and kept[1] == key else None

    def put(self, owner: object, key: object, value: Any) -> None:
        self._kept = (owner, key, value)

    def forget(self) -> None:
        self._kept = (None, None, None)

    @property
    def empty(self) -> bool:
        return self._kept[0] is None


class KeptScopes:
    """Nested scopes within which a memo keeps its entries: `scope()` is a context manager (also a decorator) that
    counts the open scopes under `lock`; when the last one closes, `drop` empties the memo (under the lock, so a
    memo that keeps entries under the same lock never keeps one after it). `open` is the count."""

    __slots__ = ("_drop", "_lock", "open")

    def __init__(self, drop: Callable[[], None], lock: threading.Lock | None = None) -> None:
        self._drop = drop
        self._lock = threading.Lock() if lock is None else lock
        self.open = 0

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Within: the memo keeps its entries; after the last scope closes they are dropped."""
        with self._lock:
            self.open += 1
        try:
            yield
        finally:
            with self._lock:
                self.open -= 1
                if self.open <= 0:
                    self._drop()
