"""What the benchmarks print beside every figure: numpy's BLAS and the kernels it runs."""

from __future__ import annotations

import os


def blas_kernels() -> str:
    """numpy's BLAS and the kernels it runs (threadpoolctl), and ``OPENBLAS_CORETYPE`` if set."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl reports)
    from threadpoolctl import threadpool_info

    lib = next((i for i in threadpool_info() if "numpy" in i["filepath"]), None)
    if lib is None:
        return "numpy's BLAS: not reported by threadpoolctl"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return (f"numpy's BLAS: {lib['internal_api']} {lib['version']}, {lib['num_threads']} threads, "
            f"{lib.get('architecture', '?')} kernels" + (f" (OPENBLAS_CORETYPE={forced})" if forced else ""))
