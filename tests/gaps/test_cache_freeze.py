"""The running bot's gap cache keeps its entries out of the full garbage collections
(`GapCache.settle`: collect, then `gc.freeze()`), and that costs no memory: an evicted entry
is freed at once though frozen, and a reference cycle frozen by chance is freed after
`UNFREEZE_EVERY` freezes."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.gaps import cache as cache_module
from bot.gaps.cache import CohortCache, GapCache
from bot.gaps.rules import GapSettings

from .scenario import answers
from .test_check_properties import check_of


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """The collector is the process's: leave nothing frozen for the other tests."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def _entry() -> CohortCache:
    """A real entry: six weeks closed, its memos and indexes filled by a check."""
    check = check_of(answers(), 6, GapSettings())
    check.findings()
    check.ok_streaks([])
    return check.entry


class _Node:
    """Something alive while a check runs that dies in a reference cycle later."""

    me: object


def test_only_a_freezing_cache_freezes_and_only_after_a_new_entry() -> None:
    plain = GapCache()
    plain.put(("db", 1), _entry())
    assert plain.settle() is False
    assert gc.get_freeze_count() == 0

    frozen = GapCache(freeze=True)
    assert frozen.settle() is False  # nothing built yet
    entry = _entry()
    frozen.put(("db", 1), entry)
    assert frozen.settle() is True
    assert gc.get_freeze_count() > 0
    assert not any(o is entry for o in gc.get_objects())  # frozen: no generation holds it
    frozen.put(("db", 1), entry)  # a warm check puts the same entry back: nothing new
    assert frozen.settle() is False


def test_an_evicted_entry_is_freed_at_once_though_frozen() -> None:
    """An entry holds no reference cycle, so its reference count frees it (and its
    memory) when the cache lets it go; no collection needed."""
    cache = GapCache(size=1, freeze=True)
    first = _entry()
    gone = weakref.ref(first)
    kept = weakref.ref(first.students[next(iter(first.students))])  # a memo in it
    cache.put(("db", 1), first)
    del first
    assert cache.settle()
    gc.disable()  # nothing but reference counts from here
    try:
        cache.put(("db", 2), _entry())  # evicts the first
        assert gone() is None
        assert kept() is None
    finally:
        gc.enable()


def test_a_cycle_frozen_by_chance_is_freed_after_unfreeze_every_freezes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cache_module, "UNFREEZE_EVERY", 3)
    cache = GapCache(freeze=True)
    node = _Node()
    node.me = node  # alive at the freeze, garbage in a cycle after it
    dead = weakref.ref(node)
    cache.put(("db", 1), _entry())
    assert cache.settle()  # freeze 1
    del node
    gc.collect()
    assert dead() is not None  # frozen: the collector does not see it
    cache.put(("db", 2), _entry())
    assert cache.settle()  # freeze 2
    assert dead() is not None
    cache.put(("db", 3), _entry())
    assert cache.settle()  # freeze 3: everything unfrozen and collected once
    assert dead() is None
