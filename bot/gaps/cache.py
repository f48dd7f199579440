"""What the per-answer gap check keeps between checks: the closed rounds' part of a cohort's
snapshot, grouped once per student and per skill, with the rules' last results per student and
per skill (`CohortCache`), for recent cohorts (`GapCache`, owned by the running bot's
`Services`). Why it is safe to keep: see `bot.gaps.check`."""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.gaps.cohort_data import CohortData, SnapshotPart
from bot.gaps.evidence import ClassAsk
from bot.gaps.model import AnswerIndex, last_week
from bot.gaps.rules import (
    CohortAnswers,
    Finding,
    GapSettings,
    HelpRequest,
    RatingAnswer,
    WorkplaceObservation,
)
from bot.gaps.rules import StudentWords as Words

_GAP_CACHE_SIZE = 32  # cohorts kept (about 1 MB each with 40 weeks of answers)
# `GapCache.settle`: after this many freezes, one full collection of everything (see there)
UNFREEZE_EVERY = 256


@dataclass
class Mine:
    """One student's (or one skill's) answers in a snapshot part."""

    ratings: list[RatingAnswer] = field(default_factory=list)
    helps: list[HelpRequest] = field(default_factory=list)
    words: list[Words] = field(default_factory=list)

    def signature(self) -> tuple[object, ...]:
        return tuple(self.ratings), tuple(self.helps), tuple(self.words)


def by_student(part: SnapshotPart) -> dict[int, Mine]:
    """The part's answers grouped per student."""
    out: dict[int, Mine] = {}
    for r in part.ratings:
        out.setdefault(r.student_id, Mine()).ratings.append(r)
    for h in part.helps:
        out.setdefault(h.student_id, Mine()).helps.append(h)
    for w in part.words:
        out.setdefault(w.student_id, Mine()).words.append(w)
    return out


def by_skill(part: SnapshotPart) -> dict[str, Mine]:
    """The part's ratings and help requests grouped per skill (no words)."""
    out: dict[str, Mine] = {}
    for r in part.ratings:
        out.setdefault(r.skill, Mine()).ratings.append(r)
    for h in part.helps:
        out.setdefault(h.skill, Mine()).helps.append(h)
    return out


@dataclass
class Memo:
    signature: object
    findings: list[Finding]
    ok: dict[str, int]
    snapshot: CohortAnswers | None  # a student's part; None for a skill (see class_asks)
    class_asks: list[ClassAsk] | None = None  # a skill's, for its class gap's ok streak


@dataclass
class CohortCache:
    key: tuple[object, ...]
    data: CohortData  # no answers: for names and plan; its rounds are the closed ones
    settings: GapSettings
    student_settings: GapSettings
    closed: SnapshotPart
    closed_by_student: dict[int, Mine]
    closed_by_skill: dict[str, Mine]
    students: dict[int, Memo] = field(default_factory=dict)
    skills: dict[str, Memo] = field(default_factory=dict)
    # the class figures of the closed rounds per skill: they cannot change while the key holds
    closed_asks: dict[str, list[ClassAsk]] = field(default_factory=dict)
    # the workplace's view of the closed observation rounds (by week, as stored), per student
    # and per skill: a tap can change only until its round closes
    observed_by_student: dict[int, list[WorkplaceObservation]] = field(default_factory=dict)
    observed_by_skill: dict[str, list[WorkplaceObservation]] = field(default_factory=dict)
    active: set[int] = field(default_factory=set)  # the students with status "active"
    # per student: the index of her closed rounds' answers and observations, and their last
    # week (`closed_index`: her open round's are indexed after them on each check)
    closed_index: dict[int, tuple[AnswerIndex, int | None]] = field(default_factory=dict)


class GapCache:
    """The closed rounds' part of recent cohorts' snapshots, least recently used first.
    Owned by the running bot's `Services` (one per process and database); a caller without
    one gets a fresh, empty cache and so reads everything.

    `freeze` (the running bot's): new entries are kept out of CPython's full collections
    (`settle`)."""

    def __init__(self, size: int = _GAP_CACHE_SIZE, *, freeze: bool = False) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, int], CohortCache] = OrderedDict()
        self._freeze = freeze
        self._unsettled = False  # an entry was built since the last `settle`
        self._frozen = 0  # freezes since the last full collection of everything

    def get(self, key: tuple[str, int]) -> CohortCache | None:
        return self._entries.get(key)

    def put(self, key: tuple[str, int], entry: CohortCache) -> None:
        if self._entries.get(key) is not entry:
            self._unsettled = True
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def settle(self) -> bool:
        """After a check that built an entry, once its read is over (`Services`): a full
        collection of what is not frozen, then `gc.freeze()`. True when it froze.

        Why: an entry is ~17,000 small objects (answer tuples, lists, memos, indexes) that
        live as long as it is cached, and CPython's full collection walks every one of them
        each time the objects that survived grew by a quarter: with 32 entries 300-530 ms
        per collection, about every sixth new entry, stalling every reply of the bot
        meanwhile (docs/benchmarks.md §3, tenth step). Frozen objects are never walked, so
        a full collection then costs what was allocated since the last freeze (5-20 ms).

        Why it is safe: a frozen object is still freed by its reference count when the last
        reference goes; an evicted entry holds no reference cycle, so its memory comes back
        at once, frozen or not (tests/gaps/test_cache_freeze.py; 160 cohorts through the
        cache: RSS flat). What a freeze hides from the collector is a reference cycle alive
        at that moment that dies later (a task, a session of a check running meanwhile; a
        few dozen objects per freeze, measured): the collection before the freeze frees what
        is garbage already, and every `UNFREEZE_EVERY` freezes everything is unfrozen and
        collected once (one full pause per 256 new entries instead of one per ~6), so what
        such cycles hold stays bounded. Process-wide (the collector is): only the running
        bot's cache (and the benchmark's, which stands for it) freezes."""
        if not (self._freeze and self._unsettled):
            return False
        self._unsettled = False
        self._frozen += 1
        if self._frozen >= UNFREEZE_EVERY:
            self._frozen = 0
            gc.unfreeze()  # back to the oldest generation: what died in a cycle is freed now
        gc.collect()
        gc.freeze()
        return True


def cache_entry(
    key: tuple[object, ...],
    data: CohortData,
    settings: GapSettings,
    closed: SnapshotPart,
    observed: Iterable[WorkplaceObservation] = (),
) -> CohortCache:
    """The cached part of a cohort: its closed rounds' snapshot and the closed observation
    rounds' levels (`observed`, by week), grouped once per student and per skill (pure: the
    property test builds one from random answers)."""
    no_fold = settings.model_copy(update={"fold_into_class": False})
    entry = CohortCache(key, data, settings, no_fold, closed, by_student(closed), by_skill(closed))
    for o in observed:
        entry.observed_by_student.setdefault(o.student_id, []).append(o)
        entry.observed_by_skill.setdefault(o.skill, []).append(o)
    return entry


def closed_index(entry: CohortCache, sid: int) -> tuple[AnswerIndex, int | None]:
    """The index of a student's closed rounds' answers and observations, and their last week:
    built once while the entry holds (they cannot change meanwhile); the check indexes her
    open round's after it (`AnswerIndex.extending`)."""
    got = entry.closed_index.get(sid)
    if got is None:
        closed = entry.closed_by_student.get(sid, Mine())
        observed = tuple(entry.observed_by_student.get(sid, ()))
        data = CohortAnswers((), tuple(closed.ratings), tuple(closed.helps), tuple(closed.words),
                             observed)  # fmt: skip
        got = entry.closed_index[sid] = (AnswerIndex(data), last_week(data))
    return got
