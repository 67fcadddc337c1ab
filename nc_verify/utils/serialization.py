"""JSON encoding of numpy values, shared by the CLI, probes and sweeps."""

from __future__ import annotations

import numpy as np


def json_default(obj):
    """``default=`` hook for :func:`json.dumps`: numpy arrays to lists, numpy scalars to Python."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
