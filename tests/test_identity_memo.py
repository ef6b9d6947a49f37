"""`identity_memo.IdentityMemo`: values kept by an owner's identity, the owner held, the bound."""

from __future__ import annotations

import gc
import weakref

import pytest

from infraplan.catalog import load_model
from infraplan.identity_memo import IdentityMemo


class _Owner:
    """A plain object: equal only to itself, weak-referenceable."""


def test_a_hit_needs_the_same_object_and_an_equal_key() -> None:
    shape = load_model("llama3-8b")
    twin = shape.model_copy()  # equal fields (a frozen pydantic model), another object
    assert twin == shape and twin is not shape
    memo: IdentityMemo[str] = IdentityMemo(8)
    assert memo.put(shape, ("bf16", 2), "kept") == "kept"
    assert memo.get(shape, ("bf16", 2)) == "kept"
    assert memo.get(twin, ("bf16", 2)) is None  # by identity, not by equality
    assert memo.get(shape, ("bf16", 4)) is None
    assert memo.get(shape) is None  # the default key (None) is a key of its own
    memo.put(shape, None, "plain")
    assert memo.get(shape) == "plain" and memo.get(shape, ("bf16", 2)) == "kept"


def test_the_entry_holds_its_owner_so_its_id_is_not_reused() -> None:
    memo: IdentityMemo[int] = IdentityMemo(8)
    owner = _Owner()
    gone = weakref.ref(owner)
    memo.put(owner, None, 1)
    del owner
    gc.collect()
    assert gone() is not None  # alive while kept: no other object can take its id
    memo.clear()
    gc.collect()
    assert gone() is None and len(memo) == 0


def test_an_entry_whose_held_object_is_another_is_a_miss() -> None:
    # an id seen again for another object (as after the first was freed) must not return the first one's value
    memo: IdentityMemo[int] = IdentityMemo(8)
    first, second = _Owner(), _Owner()
    memo.put(first, None, 1)
    memo._entries[id(second)] = (first, {None: 1})  # the id of `second`, the entry of `first`
    assert memo.get(second) is None
    assert memo.put(second, None, 2) == 2 and memo.get(second) == 2 and memo.get(first) == 1


def test_at_the_bound_the_memo_is_emptied_before_the_next_entry() -> None:
    memo: IdentityMemo[int] = IdentityMemo(3)
    owners = [_Owner() for _ in range(4)]
    for value, owner in enumerate(owners[:3]):
        memo.put(owner, None, value)
    assert len(memo) == 3 and [memo.get(o) for o in owners[:3]] == [0, 1, 2]
    memo.put(owners[3], None, 3)
    assert len(memo) == 1 and memo.get(owners[0]) is None and memo.get(owners[3]) == 3
    with pytest.raises(ValueError, match="at least 1"):
        IdentityMemo(0)
