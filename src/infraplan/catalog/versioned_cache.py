"""Cached loads of users' files, kept while the files they read are unchanged: `versioned_cache`.

An answer of a loader (a system, an accelerator, a model, a stack, a cost file, ...) is reused while every user file
it read, through `catalog.user_files.read_text_file`, has the version (st_mtime_ns, st_size) it had: a what-if file
rewritten in one process is read again (a `functools.lru_cache` keyed on the path returned the first version's
answer: hQ3's repro, session 37, validation/notes/product_review_tried.md). A preset reads no user file, so its hit
stats nothing. Moved out of `catalog/loader.py` (hY2, session 38), unchanged.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

Version = tuple[int, int] | None
"""A user file's version: (st_mtime_ns, st_size), None where it cannot be stat'ed."""
_Deps = tuple[tuple[str, Version], ...]
_LOADING = threading.local()  # .files: one set per cached load in progress on this thread, the files it read
_LOADS_IN_PROGRESS = [0]  # over all threads: a cache hit records its files only while some load is reading
_COUNT_LOCK = threading.Lock()  # the count and the caches' insertions (a web server's threads)
K = TypeVar("K")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class CachedCall(Protocol[R_co]):
    """A function of positional arguments with its answers kept (`versioned_args_cache`)."""

    def __call__(self, *args: Any) -> R_co: ...

    def cache_clear(self) -> None: ...


def file_version(path: str) -> Version:
    """(st_mtime_ns, st_size) of a file, None where it cannot be stat'ed (then it is read again each time)."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return stat.st_mtime_ns, stat.st_size


def read_by_loads(path: str, version: Version) -> None:
    """Record a user file read (`read_text_file`) in every `versioned_cache` load in progress on this thread."""
    if _LOADS_IN_PROGRESS[0]:
        for files in getattr(_LOADING, "files", ()):
            files.add((path, version))


def versioned_cache(maxsize: int) -> Callable[[Callable[[K], R]], Callable[[K], R]]:
    """`lru_cache` for a loader that may read users' files: an answer is reused while every file it read (itself,
    an `extends` base, a system's accelerator file, through `read_text_file`) has the version it had, so a what-if
    file rewritten in one process is read again (an lru_cache keyed on the path returned the first version's answer:
    hQ3's repro, 3.35 -> 0.5 TB/s gave the same step time). A preset reads no user file: its hit stats nothing.
    Errors are not kept; past `maxsize` answers the oldest is forgotten. `.cache_clear()` as lru_cache's. One
    argument (a preset's hit costs ~200 instructions more than lru_cache's; *args, **kwargs cost ~1,000)."""
    def decorate(load: Callable[[K], R]) -> Callable[[K], R]:
        answers: dict[K, tuple[R, _Deps]] = {}

        def fresh(deps: _Deps) -> bool:
            if all(file_version(path) == version for path, version in deps):
                _read_by_loads_all(deps)
                return True
            return False

        def miss(key: K) -> R:
            files: set[tuple[str, Version]] = set()
            stack = getattr(_LOADING, "files", None)
            if stack is None:
                stack = _LOADING.files = []
            stack.append(files)
            with _COUNT_LOCK:
                _LOADS_IN_PROGRESS[0] += 1
            try:
                value = load(key)
            finally:
                with _COUNT_LOCK:
                    _LOADS_IN_PROGRESS[0] -= 1
                stack.pop()
            deps = tuple(files)
            with _COUNT_LOCK:
                if len(answers) >= maxsize:
                    answers.pop(next(iter(answers)), None)
                answers[key] = (value, deps)
            _read_by_loads_all(deps)
            return value

        @functools.wraps(load)
        def cached(key: K) -> R:
            hit = answers.get(key)
            if hit is not None and (not hit[1] or fresh(hit[1])):  # a preset's: no file to stat
                return hit[0]
            return miss(key)

        cached.cache_clear = answers.clear  # type: ignore[attr-defined]
        return cached
    return decorate


def versioned_args_cache(maxsize: int) -> Callable[[Callable[..., R]], CachedCall[R]]:
    """`versioned_cache` for a function of several positional arguments (a model, a system, a rate, ...; any of
    them may name a user's file, read through the loaders): the arguments' tuple is the key, and an answer is
    reused while every file the call read has the version it had."""
    def decorate(compute: Callable[..., R]) -> CachedCall[R]:
        def by_tuple(args: tuple[Any, ...]) -> R:
            return compute(*args)

        cached = versioned_cache(maxsize)(by_tuple)

        @functools.wraps(compute)
        def call(*args: Any) -> R:
            return cached(args)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]
    return decorate


def _read_by_loads_all(deps: _Deps) -> None:
    """An inner cached load's files, recorded in the outer loads in progress (a system's cached accelerator file)."""
    if _LOADS_IN_PROGRESS[0]:
        for files in getattr(_LOADING, "files", ()):
            files.update(deps)
