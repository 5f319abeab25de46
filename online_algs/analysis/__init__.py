"""Characterising data sets and traces: which framework fits.

* :mod:`.intrinsic`: Levina–Bickel MLE and TwoNN intrinsic dimension with bootstrap CIs;
* :mod:`.doubling`: doubling dimension from ball covers, FRT embedding distortion;
* :mod:`.traces`: Zipf exponent, popularity drift, reuse distances, one-hit wonders,
  working-set growth;
* :mod:`.recommend`: which lens (stochastic caching, competitive/MTS, regret) fits.
"""

from .doubling import doubling_dimension, frt_distortion, greedy_net_size
from .intrinsic import DimensionEstimate, deduplicate, knn_distances, levina_bickel, twonn
from .recommend import characterise_trace, characterise_vectors, recommend_lens
from .traces import (one_hit_wonder_share, popularity_drift, reuse_distance, reuse_distance_histogram,
                     trace_summary, working_set_growth, zipf_exponent)

__all__ = ["levina_bickel", "twonn", "knn_distances", "deduplicate", "DimensionEstimate", "doubling_dimension",
           "greedy_net_size", "frt_distortion", "zipf_exponent", "popularity_drift", "reuse_distance",
           "reuse_distance_histogram", "one_hit_wonder_share", "working_set_growth", "trace_summary",
           "characterise_trace", "characterise_vectors", "recommend_lens"]
