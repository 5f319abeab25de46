"""Online policies that decide what the datastore keeps, one labelled example at a time.

A policy sees, after each prediction: the new example (key, label, stream index), the rows of
the datastore that served as neighbours, and the loss of the prediction. It answers with the
example to insert (or none) and the row to evict when full. The datastore itself
(:class:`Store`) holds at most ``capacity`` rows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Store", "POLICIES", "make_policy"]


class Store:
    """A fixed-capacity datastore: keys (h, d), labels, stream ids, recency and insertion times."""

    def __init__(self, capacity: int, dim: int):
        self.capacity = capacity
        self.keys = np.zeros((capacity, dim))
        self.labels = np.zeros(capacity, dtype=np.int64)
        self.ids = np.full(capacity, -1, dtype=np.int64)
        self.last_used = np.zeros(capacity, dtype=np.int64)
        self.inserted = np.zeros(capacity, dtype=np.int64)
        self.size = 0

    def view(self):
        s = self.size
        return self.keys[:s], self.labels[:s]

    def insert(self, key, label, sid, t, evict_row: int | None = None) -> int:
        if self.size < self.capacity:
            r = self.size
            self.size += 1
        else:
            r = int(evict_row)
        self.keys[r] = key
        self.labels[r] = label
        self.ids[r] = sid
        self.last_used[r] = t
        self.inserted[r] = t
        return r

    def id_set(self) -> frozenset:
        return frozenset(int(i) for i in self.ids[:self.size])


class _Policy:
    randomized = False

    def __init__(self, capacity: int, rng: np.random.Generator, **kw):
        self.capacity = capacity
        self.rng = rng

    def after(self, store: Store, key, label, sid: int, t: int, neighbours, loss: float) -> None:
        raise NotImplementedError


class FIFOPolicy(_Policy):
    """Insert every example; evict the oldest insertion."""

    def after(self, store, key, label, sid, t, neighbours, loss):
        ev = None if store.size < store.capacity else int(np.argmin(store.inserted[:store.size]))
        store.insert(key, label, sid, t, ev)


class LRUPolicy(_Policy):
    """Insert every example; a row used as a neighbour is refreshed; evict the least recently used."""

    def after(self, store, key, label, sid, t, neighbours, loss):
        store.last_used[neighbours] = t
        ev = None if store.size < store.capacity else int(np.argmin(store.last_used[:store.size]))
        store.insert(key, label, sid, t, ev)


class ReservoirPolicy(_Policy):
    """Reservoir sampling (Vitter's algorithm R): the store is a uniform sample of the stream so far."""

    randomized = True

    def __init__(self, capacity, rng, **kw):
        super().__init__(capacity, rng)
        self.seen = 0

    def after(self, store, key, label, sid, t, neighbours, loss):
        self.seen += 1
        if store.size < store.capacity:
            store.insert(key, label, sid, t)
        else:
            j = int(self.rng.integers(0, self.seen))
            if j < store.capacity:
                store.insert(key, label, sid, t, j)


class ErrorDrivenPolicy(_Policy):
    """Online condensed nearest neighbour: insert only examples the current predictor gets wrong
    (Hart's CNN rule, online); neighbours are refreshed; evict the least recently used."""

    def __init__(self, capacity, rng, **kw):
        super().__init__(capacity, rng)
        self.wrong = False

    def after(self, store, key, label, sid, t, neighbours, loss):
        store.last_used[neighbours] = t
        if self.wrong or store.size == 0:
            ev = None if store.size < store.capacity else int(np.argmin(store.last_used[:store.size]))
            store.insert(key, label, sid, t, ev)


class QLRUPolicy(_Policy):
    r"""qLRU-DeltaC adapted to a labelled stream (Garetto, Leonardi, Neglia, INFOCOM 2020): an
    approximate hit refreshes the neighbours (LRU update); the new example is inserted with
    probability ``min(1, q * loss / C_r)`` where the approximation cost is the prediction's loss
    ``1 - p(y)`` and C_r = 1: examples the datastore serves badly are likely inserted."""

    randomized = True

    def __init__(self, capacity, rng, q: float = 0.5, **kw):
        super().__init__(capacity, rng)
        self.q = q

    def after(self, store, key, label, sid, t, neighbours, loss):
        store.last_used[neighbours] = t
        if store.size == 0 or self.rng.random() < min(1.0, self.q * loss):
            ev = None if store.size < store.capacity else int(np.argmin(store.last_used[:store.size]))
            store.insert(key, label, sid, t, ev)


POLICIES = {"fifo": FIFOPolicy, "lru": LRUPolicy, "reservoir": ReservoirPolicy, "error": ErrorDrivenPolicy,
            "qlru": QLRUPolicy}


def make_policy(name: str, capacity: int, rng, **kw) -> _Policy:
    return POLICIES[name](capacity, rng, **kw)
