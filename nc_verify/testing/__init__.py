"""A testing API for suites that check the paper's claims, or a researcher's own.

* :mod:`nc_verify.testing.assertions` (re-exported here) -- ``assert_*`` helpers that
  raise ``AssertionError`` with the numbers, or :class:`UndecidedError` when the
  arithmetic or the search cannot decide.
* :mod:`nc_verify.testing.strategies` -- hypothesis strategies (needs hypothesis,
  ``pip install "nc-verify[test]"``; imported only from there).
* :mod:`nc_verify.testing.plugin` -- the pytest plugin (registered as ``nc_verify``):
  a seeded ``rng`` fixture, ``--nc-verify-profile``, a summary line of the claims run.

This is the top layer of the package: it may import every other layer, none imports it.
"""

from nc_verify.testing.assertions import (
    FAIL,
    PASS,
    UNDECIDED,
    Row,
    UndecidedError,
    assert_certified_minimum,
    assert_certified_saddle,
    assert_critical,
    assert_derivatives,
    assert_global_minimizer,
    assert_neural_collapse,
    assert_not_critical,
    assert_strict_saddle,
    assert_theorem1,
    assert_theorem2,
    claims_run,
    report_rows,
    report_verdict,
)

__all__ = [
    "FAIL", "PASS", "UNDECIDED", "Row", "UndecidedError", "assert_certified_minimum",
    "assert_certified_saddle", "assert_critical", "assert_derivatives", "assert_global_minimizer",
    "assert_neural_collapse", "assert_not_critical", "assert_strict_saddle", "assert_theorem1",
    "assert_theorem2", "claims_run", "report_rows", "report_verdict",
]
