"""Point sets of known intrinsic dimension (for checks and tests)."""

from __future__ import annotations

import numpy as np

__all__ = ["uniform_cube", "swiss_roll", "sphere", "embed"]


def uniform_cube(n: int, dim: int, seed=None) -> np.ndarray:
    """n points uniform in [0, 1)^dim (use ``boxsize=1.0`` in the estimators for the torus)."""
    return np.random.default_rng(seed).random((n, dim))


def swiss_roll(n: int, seed=None) -> np.ndarray:
    """A 2-d swiss roll in R^3: (t cos t, h, t sin t), t ~ U[1.5 pi, 4.5 pi], h ~ U[0, 21]."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(1.5 * np.pi, 4.5 * np.pi, n)
    h = rng.uniform(0, 21, n)
    return np.c_[t * np.cos(t), h, t * np.sin(t)]


def sphere(n: int, dim: int = 2, seed=None) -> np.ndarray:
    """n points uniform on the unit sphere S^dim in R^(dim+1)."""
    z = np.random.default_rng(seed).standard_normal((n, dim + 1))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def embed(Y: np.ndarray, ambient: int, seed=None) -> np.ndarray:
    """Isometric embedding of the rows of Y into R^ambient by a random orthonormal map."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((ambient, ambient)))
    return Y @ Q[: Y.shape[1]]
