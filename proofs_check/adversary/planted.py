"""Algorithms with planted bugs: the adversary search must find their bound violations."""

from __future__ import annotations

import numpy as np

from online_algs.base import RequestThenMove
from online_algs.metrics import as_metric


class LazyTieWFA(RequestThenMove):
    """The Work Function Algorithm with the classic wrong tie-break (planted bug): it picks
    argmin_s w_t(s) + d(s_{t-1}, s) over *all* states, staying on ties, instead of over the
    fundamental states. On the cruel taskmaster the current state stays a tied minimiser and the
    algorithm never moves: its ratio is unbounded. Not a library algorithm (never registered)."""

    _abstract = True

    def __init__(self, metric, start: int = 0):
        self.metric = metric
        self.start = start

    def reset(self):
        self.metric_ = as_metric(self.metric)
        self._s = int(self.start)
        self._w = self.metric_.d[self._s].copy()

    def _validate_sequence(self, seq):
        return np.asarray(seq, dtype=float)

    @property
    def state(self):
        return self._s

    def check_state(self, state):
        return 0 <= state < self.metric_.n

    def serve(self, c):
        d = self.metric_.d
        w = np.min((self._w + c)[:, None] + d, axis=0)
        score = w + d[self._s]
        best = score.min()
        new = self._s if score[self._s] <= best + 1e-12 else int(np.argmin(score))
        mov = d[self._s, new]
        self._s = new
        self._w = w
        return float(c[new]), float(mov)
