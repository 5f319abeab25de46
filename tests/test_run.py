import numpy as np
import pytest

import online_algs
from online_algs import InvalidInputError, run
from online_algs._validation import check_cost_matrix, check_float, check_float_array, check_int, check_int_array


def test_run_rejects_non_algorithm():
    with pytest.raises(InvalidInputError, match="algorithm"):
        run(object(), [1, 2])


def test_check_int_messages():
    with pytest.raises(InvalidInputError, match=r"The 'k' parameter of X must be an int in the range \[1, 5\]. Got 0"):
        check_int("k", 0, low=1, high=5, owner="X")
    with pytest.raises(InvalidInputError, match="Got True"):
        check_int("k", True, low=1)
    assert check_int("k", np.int32(3), low=1) == 3


def test_check_float_messages():
    with pytest.raises(InvalidInputError, match="finite"):
        check_float("eta", float("nan"))
    # a finite-only range has an open infinite end (UAT 18: it used to read "(0.0, inf]")
    with pytest.raises(InvalidInputError, match=r"\(0.0, inf\)\. Got 0.0"):
        check_float("eta", 0.0, low=0.0, low_open=True)
    with pytest.raises(InvalidInputError, match=r"finite real number in the range \[0.0, inf\)\. Got inf"):
        check_float("cost", float("inf"), low=0.0)
    with pytest.raises(InvalidInputError, match=r"\(-inf, 1.0\]"):
        check_float("x", 2.0, high=1.0)
    with pytest.raises(InvalidInputError, match=r"\[0.0, inf\]\. Got -1.0"):
        check_float("d", -1.0, low=0.0, allow_inf=True)
    assert check_float("d", float("inf"), low=0.0, allow_inf=True) == float("inf")


def test_array_hints_replace_the_default_fix_it_text():
    with pytest.raises(InvalidInputError, match=r"NaN at index \(0,\); replace missing costs"):
        check_float_array("costs", [np.nan])  # default kept for existing callers
    with pytest.raises(InvalidInputError, match=r"NaN at index \(0,\); fill it\.$"):
        check_float_array("z", [np.nan], hint="fill it.")
    with pytest.raises(InvalidInputError, match=r"non-negative\. Got -1.0 at index \(0,\); clip\.$"):
        check_float_array("x", [-1.0], nonneg=True, hint="clip.")
    with pytest.raises(InvalidInputError, match=r"raise n_items"):
        check_int_array("trace", [5], high=3)
    with pytest.raises(InvalidInputError, match=r"ids <= 3\. Got 5 at position 0; labels\.$"):
        check_int_array("y", [5], high=3, hint="labels.")
    with pytest.raises(InvalidInputError, match=r"ids >= 0\. Got -1 at position 0; labels\.$"):
        check_int_array("y", [-1], hint="labels.")


def test_int_array_of_a_string_or_scalar_says_so():
    with pytest.raises(InvalidInputError, match=r"Got a str \('abc'\); pass a list or array of integer ids"):
        check_int_array("trace", "abc", owner="LRU")
    with pytest.raises(InvalidInputError, match=r"Got a scalar 7 of type int; wrap it in a list"):
        check_int_array("trace", 7)


def test_check_int_array():
    a = check_int_array("trace", [1.0, 2.0, 3.0])
    assert a.dtype == np.int64
    with pytest.raises(InvalidInputError, match="1-d"):
        check_int_array("trace", [[1, 2]])
    with pytest.raises(InvalidInputError, match=">= 0"):
        check_int_array("trace", [1, -2])
    with pytest.raises(InvalidInputError, match="<= 3"):
        check_int_array("trace", [1, 4], high=3)
    with pytest.raises(InvalidInputError, match="integers"):
        check_int_array("trace", [1.5])
    with pytest.raises(InvalidInputError, match="empty"):
        check_int_array("trace", [])
    with pytest.raises(InvalidInputError, match="integers"):
        check_int_array("trace", ["a"])
    # ids beyond int64 wrapped around in the cast: the message reported a negative id that was never given
    with pytest.raises(InvalidInputError, match=r"fit in int64.*Got 9223372036854775813 at position 0"):
        check_int_array("trace", np.array([2**63 + 5, 1], dtype=np.uint64))
    with pytest.raises(InvalidInputError, match=r"fit in int64.*Got 1e\+30 at position 1"):
        check_int_array("trace", [1.0, 1e30])
    assert check_int_array("trace", np.array([2**63 - 1], dtype=np.uint64))[0] == 2**63 - 1


def test_check_cost_matrix():
    with pytest.raises(InvalidInputError, match="NaN"):
        check_cost_matrix("costs", [[0, np.nan]], 2)
    with pytest.raises(InvalidInputError, match="non-negative"):
        check_cost_matrix("costs", [[0, -1]], 2)
    with pytest.raises(InvalidInputError, match="shape"):
        check_cost_matrix("costs", [[0, 1, 2]], 2)
    with pytest.raises(InvalidInputError, match="every state"):
        check_cost_matrix("costs", [[np.inf, np.inf]], 2)
    assert check_cost_matrix("costs", [[0, np.inf]], 2).shape == (1, 2)


def test_exception_hierarchy():
    assert issubclass(online_algs.InvalidInputError, ValueError)
    assert issubclass(online_algs.SolverError, online_algs.OnlineAlgsError)
    e = online_algs.SolverError("x", status="infeasible", solver="HIGHS")
    assert e.status == "infeasible" and e.solver == "HIGHS"


def test_lazy_subpackages():
    assert online_algs.metrics.uniform(3).n == 3
    with pytest.raises(AttributeError):
        online_algs.nope


def test_run_rejects_class_instead_of_instance():
    from online_algs.caching import LRU

    with pytest.raises(InvalidInputError, match="instantiate it"):
        run(LRU, [1, 2])
