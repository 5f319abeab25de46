"""Adversary search: the instances nobody thought of (see :mod:`.search` and :mod:`.problems`)."""

from .fixtures import FIXTURE_DIR, load_fixtures, replay, save_fixture
from .problems import KServerLineProblem, MTSProblem, Node, PagingProblem, Problem, ratio_of
from .search import SearchResult, constructive_search, local_search, random_search

__all__ = ["Problem", "PagingProblem", "MTSProblem", "KServerLineProblem", "Node", "ratio_of", "SearchResult",
           "random_search", "local_search", "constructive_search", "save_fixture", "load_fixtures", "replay",
           "FIXTURE_DIR", "build_problem"]


def build_problem(spec: dict):
    """Rebuild a problem from a fixture's ``problem`` record (name + params)."""
    from .registry import PROBLEMS

    return PROBLEMS[spec["name"]](**spec["params"])
