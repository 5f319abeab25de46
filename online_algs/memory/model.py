"""Small source-domain models: PCA features + multinomial logistic regression.

The model's feature space is also the datastore's key space, as in kNN-LM (the language
model's hidden states are the keys): :meth:`SmallModel.features` maps raw inputs to keys.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from .._validation import LABEL_HINT, VECTOR_HINT, check_float, check_float_array, check_int, check_int_array
from ..exceptions import InvalidInputError, SolverError

__all__ = ["SmallModel", "softmax"]


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class SmallModel:
    r"""A small classifier for the edge: PCA to ``n_components`` features, then multinomial
    logistic regression with an L2 penalty, fitted by L-BFGS on the mean cross-entropy.

    ``fit(X, y)``; ``features(X)`` -> (n, n_components) keys; ``predict_proba_features(F)`` and
    ``predict_proba(X)`` -> (n, n_classes). Deterministic (PCA by SVD, L-BFGS from zero).
    """

    def __init__(self, n_components: int = 50, l2: float = 1e-3, max_iter: int = 300):
        self.n_components = n_components
        self.l2 = l2
        self.max_iter = max_iter

    def fit(self, X, y) -> "SmallModel":
        X = check_float_array("X", X, ndim=2, owner="SmallModel.fit", hint=VECTOR_HINT)
        y = check_int_array("y", y, low=0, owner="SmallModel.fit", hint=LABEL_HINT)
        if len(X) != len(y):
            raise InvalidInputError(f"SmallModel.fit: X has {len(X)} rows but y has {len(y)} labels.")
        m = check_int("n_components", self.n_components, low=1, high=X.shape[1], owner="SmallModel")
        l2 = check_float("l2", self.l2, low=0.0, owner="SmallModel")
        self.n_features_in_ = X.shape[1]
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        evals, evecs = np.linalg.eigh(Xc.T @ Xc)          # covariance eigenvectors, ascending
        comps = evecs[:, ::-1][:, :m].T
        # fix the sign of each component (largest entry positive) so the fit is deterministic
        signs = np.sign(comps[np.arange(m), np.abs(comps).argmax(axis=1)])
        self.components_ = comps * signs[:, None]
        F = self.features(X)
        self.scale_ = F.std(axis=0) + 1e-12
        F = F / self.scale_
        C = int(y.max()) + 1
        self.n_classes_ = C
        Y = np.eye(C)[y]
        n, d = F.shape
        Fb = np.c_[F, np.ones(n)]

        def f(w):
            W = w.reshape(d + 1, C)
            Z = Fb @ W
            Z = Z - Z.max(axis=1, keepdims=True)
            lse = np.log(np.exp(Z).sum(axis=1))
            loss = (lse - (Z * Y).sum(axis=1)).mean() + 0.5 * l2 * (W[:-1] ** 2).sum()
            P = np.exp(Z - lse[:, None])
            G = Fb.T @ (P - Y) / n
            G[:-1] += l2 * W[:-1]
            return loss, G.ravel()

        res = minimize(f, np.zeros((d + 1) * C), jac=True, method="L-BFGS-B",
                       options={"maxiter": int(self.max_iter)})
        if not np.all(np.isfinite(res.x)):
            raise SolverError("SmallModel.fit: L-BFGS returned non-finite weights; scale the inputs.",
                              status=str(res.message), solver="L-BFGS-B")
        self.coef_ = res.x.reshape(d + 1, C)
        return self

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise InvalidInputError("SmallModel is not fitted: call fit(X, y) first.")

    def features(self, X) -> np.ndarray:
        """Keys of raw inputs: PCA projection (unscaled), shape (n, n_components)."""
        if not hasattr(self, "components_"):
            raise InvalidInputError("SmallModel is not fitted: call fit(X, y) first.")
        X = check_float_array("X", X, ndim=2, owner="SmallModel.features", hint=VECTOR_HINT)
        if X.shape[1] != self.n_features_in_:
            raise InvalidInputError(f"SmallModel.features: X has {X.shape[1]} features, the model was fitted on "
                                    f"{self.n_features_in_}.")
        return (X - self.mean_) @ self.components_.T

    def predict_proba_features(self, F) -> np.ndarray:
        self._check_fitted()
        F = np.atleast_2d(np.asarray(F, dtype=np.float64))
        Z = np.c_[F / self.scale_, np.ones(len(F))] @ self.coef_
        return softmax(Z)

    def predict_proba(self, X) -> np.ndarray:
        return self.predict_proba_features(self.features(X))

    def score(self, X, y) -> float:
        return float((self.predict_proba(X).argmax(axis=1) == np.asarray(y)).mean())
