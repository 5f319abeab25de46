"""Memory-augmented edge inference: a small model plus a local datastore learned online.

* :class:`SmallModel`: PCA features + logistic regression (its features are the datastore keys);
* :class:`MemoryAugmentedClassifier`: the online loop (predict with the kNN-LM interpolation,
  reveal the label, let a policy update the datastore), run with ``online_algs.run``;
* policies: FIFO, LRU, reservoir, online condensed NN, qLRU-DeltaC, OMD (no-regret);
* :mod:`.reduction`: offline instance reduction (CNN, ENN, DROP3);
* :mod:`.shifts`: MNIST domain shifts (rotation, noise, class-prior drift, thicker strokes).
"""

from .classifier import ALL_POLICIES, MemoryAugmentedClassifier, Stream
from .mixture import LambdaHedge, interpolate, knn_distribution
from .model import SmallModel
from .reduction import cnn, drop3, enn, trim
from .shifts import SHIFTS, apply_shift, mnist_domains
from .static import evaluate_static, static_surrogate_best

__all__ = ["MemoryAugmentedClassifier", "Stream", "ALL_POLICIES", "SmallModel", "LambdaHedge", "interpolate",
           "knn_distribution", "cnn", "enn", "drop3", "trim", "SHIFTS", "apply_shift", "mnist_domains",
           "evaluate_static", "static_surrogate_best"]
