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
    of the other inputs (module docstring). `get` gives None on a miss, so a value is never None.

    The values of one owner sit in a dict of their own, found by the owner's id, and the owner asked last is kept
    beside them (`_last`, one (owner, values) tuple read and replaced whole): a memo is mostly asked about one
    fabric, stack or model in a row, so a hit is an identity test and one dict lookup (no `id` call, no key tuple;
    issue 18: a single estimate asks ~34 times)."""

    __slots__ = ("_count", "_entries", "_last", "bound")

    def __init__(self, bound: int = 256) -> None:
        if bound < 1:
            raise ValueError(f"IdentityMemo bound {bound}: at least 1 entry")
        self.bound = bound
        self._entries: dict[int, tuple[object, dict[Hashable, V]]] = {}  # id(owner) -> (owner, values by key)
        self._count = 0
        self._last: tuple[object, dict[Hashable, V]] = (_NOBODY, {})

    def get(self, owner: object, key: Hashable = None) -> V | None:
        """The value kept for `owner` (by identity) and `key`; None when there is none."""
        last = self._last
        if last[0] is owner:
            return last[1].get(key)
        kept = self._entries.get(id(owner))
        if kept is None or kept[0] is not owner:
            return None
        self._last = kept
        return kept[1].get(key)

    def put(self, owner: object, key: Hashable, value: V) -> V:
        """Keep `value` for `owner` and `key` (the entry holds `owner`, so its id is not reused); gives `value`."""
        if self._count >= self.bound:
            self.clear()
        entries = self._entries
        kept = entries.get(id(owner))
        if kept is None or kept[0] is not owner:
            kept = entries[id(owner)] = (owner, {})
        values = kept[1]
        if key not in values:
            self._count += 1
        values[key] = value
        self._last = kept
        return value

    def clear(self) -> None:
        """Forget every entry."""
        self._last = (_NOBODY, {})
        self._entries.clear()
        self._count = 0

    def __len__(self) -> int:
        return self._count


_NOBODY = object()  # `IdentityMemo._last`'s owner before any is asked: no caller's object


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
