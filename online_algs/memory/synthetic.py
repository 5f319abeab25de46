"""Small synthetic streams (Gaussian mixtures with a shift) for tests and contract cases."""

from __future__ import annotations

import numpy as np

from .model import SmallModel

__all__ = ["gaussian_stream"]


def gaussian_stream(n_source: int = 200, n_stream: int = 60, n_classes: int = 3, dim: int = 4, shift: float = 2.0,
                    seed: int = 0):
    """A model fitted on a Gaussian mixture and a stream whose class means moved by ``shift``.

    Returns ``(model, F_stream, y_stream)`` with ``F_stream`` already in the model's feature space.
    """
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 3, size=(n_classes, dim))
    ys = rng.integers(0, n_classes, n_source)
    Xs = means[ys] + rng.normal(0, 1, (n_source, dim))
    model = SmallModel(n_components=dim).fit(Xs, ys)
    yt = rng.integers(0, n_classes, n_stream)
    moved = means + rng.normal(0, shift, size=means.shape)
    Xt = moved[yt] + rng.normal(0, 1, (n_stream, dim))
    return model, model.features(Xt), yt
