"""Domain shifts of MNIST for the edge: the model is trained on a source split and deployed on a
shifted stream (rotation, noise, class-prior drift, a change of writer style)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .._validation import check_choice, check_int

__all__ = ["SHIFTS", "apply_shift", "mnist_domains"]

SHIFTS = ("none", "rotate", "noise", "prior", "thick")


def apply_shift(X: np.ndarray, y: np.ndarray, shift: str, rng: np.random.Generator):
    """Shift images ``X`` (n, 784) in [0, 1] with labels ``y``; returns (X', y') (order may change).

    ``rotate``: every digit rotated by an angle uniform in [35, 55] degrees; ``noise``: Gaussian
    noise (sigma 0.45) then clipping; ``prior``: the stream is reordered into 5 phases, each
    dominated (70%) by two classes; ``thick``: strokes thickened by a 3x3 grey dilation
    (a heavier writer); ``none``: unchanged.
    """
    check_choice("shift", shift, SHIFTS, owner="apply_shift")
    if shift == "none":
        return X, y
    if shift == "rotate":
        imgs = X.reshape(-1, 28, 28)
        out = np.empty_like(imgs)
        angles = rng.uniform(35, 55, size=len(imgs))
        for i, (im, a) in enumerate(zip(imgs, angles)):
            out[i] = ndimage.rotate(im, a, reshape=False, order=1, mode="constant")
        return np.clip(out.reshape(len(X), -1), 0, 1), y
    if shift == "noise":
        return np.clip(X + rng.normal(0, 0.45, X.shape), 0, 1), y
    if shift == "thick":
        imgs = X.reshape(-1, 28, 28)
        out = np.stack([ndimage.grey_dilation(im, size=(3, 3)) for im in imgs])
        return out.reshape(len(X), -1), y
    # prior drift: 5 phases, each 70% from two dominant classes
    n = len(y)
    order = []
    pools = {c: list(rng.permutation(np.flatnonzero(y == c))) for c in range(10)}
    phase_len = n // 5
    for ph in range(5):
        dom = (2 * ph, 2 * ph + 1)
        for _ in range(phase_len):
            avail = [c for c in range(10) if pools[c]]
            if not avail:
                break
            dom_av = [c for c in dom if pools[c]]
            if dom_av and rng.random() < 0.7:
                c = dom_av[int(rng.integers(len(dom_av)))]
            else:
                c = avail[int(rng.integers(len(avail)))]
            order.append(pools[c].pop())
    order = np.array(order)
    return X[order], y[order]


def mnist_domains(shift: str, n_source: int = 5000, n_stream: int = 5000, seed: int = 0):
    """Source (train) and shifted stream splits of the bundled MNIST test set.

    Returns ``(X_source, y_source, X_stream, y_stream)`` with pixels scaled to [0, 1]. The source
    is the first ``n_source`` images, the stream is drawn from the rest and shifted.
    """
    from ..datasets import load_mnist

    check_choice("shift", shift, SHIFTS, owner="mnist_domains")
    n_source = check_int("n_source", n_source, low=10, high=9000, owner="mnist_domains")
    n_stream = check_int("n_stream", n_stream, low=10, high=10000 - n_source, owner="mnist_domains")
    X, y = load_mnist()
    X = X.astype(np.float64) / 255.0
    rng = np.random.default_rng(seed)
    Xs, ys = X[:n_source], y[:n_source]
    rest = n_source + rng.permutation(10000 - n_source)[:n_stream]
    Xt, yt = apply_shift(X[rest], y[rest], shift, rng)
    return Xs, ys, Xt, yt
