"""The local k-NN datastore: similarity caching.

A small local cache of ``h`` catalog vectors in front of a full remote k-NN index. Modules:
``costs`` (the AÇAI cost model: :func:`serving_cost`, the gain and its supergradient),
``problem`` (:class:`Datastore`), ``index`` (numpy and Faiss backends), ``policies`` (SIM-LRU,
RND-LRU, qLRU-DeltaC, DUEL, exact-id LRU/LFU), ``acai`` (AÇAI: online mirror ascent plus
DepRound; a generic gain adapter for no-regret learners), ``offline`` (greedy, LP bound, best
static cache, exact dynamic optimum), ``adapters`` (MTS, caching-with-gain and k-server views),
``workloads`` (MNIST, MovieLens, Gaussian mixtures).
"""

from .costs import *  # noqa: F401,F403
from .costs import __all__ as _costs_all
from .problem import *  # noqa: F401,F403
from .problem import __all__ as _problem_all
from .index import *  # noqa: F401,F403
from .index import __all__ as _index_all
from .policies import *  # noqa: F401,F403
from .policies import __all__ as _policies_all
from .acai import *  # noqa: F401,F403
from .acai import __all__ as _acai_all
from .offline import *  # noqa: F401,F403
from .offline import __all__ as _offline_all
from .adapters import *  # noqa: F401,F403
from .adapters import __all__ as _adapters_all
from .workloads import *  # noqa: F401,F403
from .workloads import __all__ as _workloads_all

__all__ = (list(_costs_all) + list(_problem_all) + list(_index_all) + list(_policies_all) + list(_acai_all)
           + list(_offline_all) + list(_adapters_all) + list(_workloads_all))
