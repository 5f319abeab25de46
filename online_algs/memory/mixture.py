"""kNN-LM style interpolation of a model with a datastore, and online learning of lambda."""

from __future__ import annotations

import numpy as np

from .._validation import check_float_array
from ..exceptions import InvalidInputError

__all__ = ["knn_distribution", "interpolate", "LambdaHedge"]


def knn_distribution(query: np.ndarray, keys: np.ndarray, labels: np.ndarray, n_classes: int, k: int,
                     tau: float) -> tuple[np.ndarray, np.ndarray]:
    r"""p_kNN(y) ∝ sum over the k nearest keys with label y of exp(-||q - k_i||^2 / tau).

    Returns ``(p, neighbours)`` with ``neighbours`` the row indices of the k nearest keys
    (nearest first). Weights are computed relative to the nearest squared distance, so the
    distribution is exact and never 0/0. ``keys`` must be non-empty.
    """
    d2 = ((keys - query) ** 2).sum(axis=1)
    kk = min(k, len(keys))
    nb = np.argpartition(d2, kk - 1)[:kk] if kk < len(keys) else np.arange(len(keys))
    nb = nb[np.argsort(d2[nb], kind="stable")]
    w = np.exp(-(d2[nb] - d2[nb[0]]) / tau)
    p = np.bincount(labels[nb], weights=w, minlength=n_classes)[:n_classes]
    return p / p.sum(), nb


def interpolate(p_model: np.ndarray, p_knn: np.ndarray, lam: float) -> np.ndarray:
    """p = lam * p_kNN + (1 - lam) * p_model (Khandelwal et al., ICLR 2020)."""
    return lam * p_knn + (1.0 - lam) * p_model


class LambdaHedge:
    r"""Online lambda by the Bayes mixture (exponential weights with eta = 1 on the log loss) over a
    grid of lambdas. The prediction is linear in lambda, so the mixture of the grid's predictions
    is itself an interpolation with lambda_t = sum_g w_g lambda_g. For the log loss (1-exp-concave)
    its cumulative loss is at most min_g (cumulative loss of lambda_g) + ln |grid|
    (Theorem ``memory.lambda.regret``; Cesa-Bianchi & Lugosi 2006, Sec. 3.3 and 9).
    O(|grid|) per update and per prediction."""

    def __init__(self, grid=None):
        if grid is None:
            self.grid = np.linspace(0.0, 1.0, 11)
        else:
            self.grid = check_float_array("grid", grid, ndim=1, owner="LambdaHedge")
            if self.grid.min() < 0.0 or self.grid.max() > 1.0:
                raise InvalidInputError(f"The 'grid' argument of LambdaHedge must hold lambdas in [0, 1] (the "
                                        f"interpolation weights). Got values from {self.grid.min():g} to "
                                        f"{self.grid.max():g}; clip them to [0, 1].")
        self.logw = np.zeros(len(self.grid))

    @property
    def weights(self) -> np.ndarray:
        w = np.exp(self.logw - self.logw.max())
        return w / w.sum()

    @property
    def lam(self) -> float:
        return float(self.weights @ self.grid)

    def update(self, p_model_y: float, p_knn_y: float) -> None:
        """Observe the probabilities both components gave to the revealed label."""
        p = self.grid * p_knn_y + (1.0 - self.grid) * p_model_y
        self.logw += np.log(np.maximum(p, 1e-300))
