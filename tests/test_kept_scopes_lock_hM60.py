"""Mutants of hE60's `identity_memo.KeptScopes` (hM, session 60): a scope opens under the lock it is given, so a
thread holding that lock (a memo keeping or dropping an entry) is never raced by a scope's count."""

from __future__ import annotations

import threading

from infraplan.identity_memo import KeptScopes


def test_a_scope_waits_for_the_lock_to_open() -> None:
    lock = threading.Lock()
    scopes = KeptScopes(lambda: None, lock)
    entered = threading.Event()

    def search() -> None:
        with scopes.scope():
            entered.set()

    with lock:  # another thread keeps an entry
        worker = threading.Thread(target=search)
        worker.start()
        assert not entered.wait(0.3) and scopes.open == 0  # the scope waits: counted only once the lock is free
    worker.join(10)
    assert entered.is_set() and scopes.open == 0
