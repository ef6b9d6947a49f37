"""`identity_memo.KeptScopes` (hE60): the one count of nested keep-scopes that `serving.engine_memo` and
`serving.loop_stepping` each wrote for themselves; the memo is emptied once, when the last scope closes."""

from __future__ import annotations

import threading

import pytest

from infraplan.identity_memo import KeptScopes
from infraplan.serving import engine_memo


def test_the_memo_is_dropped_when_the_last_nested_scope_closes_and_only_then() -> None:
    dropped: list[int] = []
    scopes = KeptScopes(lambda: dropped.append(scopes.open))
    assert scopes.open == 0
    with scopes.scope():
        with scopes.scope():
            assert scopes.open == 2
        assert scopes.open == 1 and dropped == []  # an inner scope closing keeps the memo
    assert scopes.open == 0 and dropped == [0]  # dropped once, under the count of no open scope


def test_a_scope_is_a_decorator_too_and_drops_on_an_exception() -> None:
    dropped: list[bool] = []
    scopes = KeptScopes(lambda: dropped.append(True))

    @scopes.scope()
    def inside() -> int:
        return scopes.open

    assert inside() == 1 and inside() == 1 and dropped == [True, True]
    with pytest.raises(ValueError), scopes.scope():
        raise ValueError("a search that fails")
    assert scopes.open == 0 and dropped == [True, True, True]


def test_the_drop_runs_under_the_lock_it_is_given() -> None:
    lock = threading.Lock()
    held: list[bool] = []
    scopes = KeptScopes(lambda: held.append(lock.locked()), lock)
    with scopes.scope():
        assert not lock.locked()  # (held only to count)
    assert held == [True]  # a memo keeping entries under the same lock never keeps one after the drop


def test_the_serving_memos_keep_only_within_their_scopes() -> None:
    assert engine_memo.kept_runs() == 0
    with engine_memo.kept_engine_runs():
        engine_memo.keep(b"k" * 32, None)
        assert engine_memo.recall(b"k" * 32) == (True, None)
        with engine_memo.kept_engine_runs():
            pass
        assert engine_memo.recall(b"k" * 32) == (True, None)  # the inner scope closing keeps it
    assert engine_memo.recall(b"k" * 32) == (False, None) and engine_memo.kept_runs() == 0
    engine_memo.keep(b"k" * 32, None)  # outside a scope nothing is kept
    assert engine_memo.kept_runs() == 0
