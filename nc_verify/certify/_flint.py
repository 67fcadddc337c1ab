"""Lazy access to python-flint (the ``certify`` extra) and the working precision."""

from __future__ import annotations

import contextlib

INSTALL_HINT = 'pip install "nc-verify[certify]"'


def flint():
    """The ``flint`` module; an ``ImportError`` naming the extra if python-flint is missing."""
    try:
        import flint as _flint
    except ImportError as exc:
        raise ImportError(
            "certified verdicts need python-flint (ball arithmetic); install it with "
            f"{INSTALL_HINT}"
        ) from exc
    return _flint


@contextlib.contextmanager
def working_precision(prec: int):
    """Set ``flint.ctx.prec`` to ``prec`` bits inside the block, restoring it afterwards."""
    fl = flint()
    old = fl.ctx.prec
    fl.ctx.prec = int(prec)
    try:
        yield fl
    finally:
        fl.ctx.prec = old
