"""Taylor-slope fitting: the decision rule of every derivative check (eqs. (5)-(8), the baselines).

A remainder ``|f(R(x, t xi)) - model(t)|`` decays like ``t^q``; its log-log slope is
fitted over the straightest window above the rounding floor and compared with ``q``.
"""

from __future__ import annotations

import numpy as np

#: Accepted shortfall of a fitted Taylor slope below its exact value (2 or 3). In the
#: straight part of the log-log curve the next Taylor term changes the slope by
#: O(t) ~ 1e-2; 0.1 leaves margin yet rejects a wrong formula, whose remainder has
#: slope 1 (gradient) or 2 (Hessian). A slope above the exact value is fine: along
#: a direction where the leading remainder term vanishes the next one shows.
SLOPE_TOL = 0.1


def slopes_ok(slopes, exact: float) -> bool:
    """True when the median slope over directions is at least ``exact - SLOPE_TOL``.

    The median tolerates one direction in which the straight part of the curve is
    hidden by a change of the dominant Taylor term; a wrong formula has the low
    slope in every generic direction.
    """
    slopes = np.asarray(slopes, dtype=float)
    return bool(slopes.size and np.median(slopes) >= exact - SLOPE_TOL)


#: A fitted slope decides only when its window starts at a step ``t <= RESOLVED_STEP``:
#: there the next Taylor term changes the slope by O(t) <= 0.05, half of
#: :data:`SLOPE_TOL`.  A remainder that rises above the rounding floor only at larger
#: steps (a nearly flat cost, e.g. ``tau = 1e-8``) cannot separate its leading term
#: from the next ones, and the check is undecided, not failed.
RESOLVED_STEP = 0.05


def fit_slope(ts: np.ndarray, errs: np.ndarray, floor: float, points: int = 6, *, full_output: bool = False):
    """Slope of ``log err`` vs ``log t`` over the straightest window of ``points`` steps above ``floor``.

    Below ``floor`` the remainder is rounding noise; at large steps higher Taylor
    terms bend the curve. Between the two the log-log curve is a straight line, and
    the window of consecutive steps with the smallest least-squares residual finds
    it (for a wrong formula too: its line is just as straight, with another slope).
    With ``full_output`` returns ``(slope, t_first)``, the smallest step of the
    window (NaN without a window): the slope decides only if ``t_first <= RESOLVED_STEP``.
    """
    ok = np.flatnonzero(errs > floor)
    if ok.size < points:
        return (float("nan"), float("nan")) if full_output else float("nan")
    x, y = np.log(ts), np.log(np.maximum(errs, np.finfo(np.float64).tiny))
    best = (np.inf, float("nan"), float("nan"))
    for start in range(ok.size - points + 1):
        sel = ok[start : start + points]
        if sel[-1] - sel[0] != points - 1:      # only consecutive steps
            continue
        coef, res, *_ = np.polyfit(x[sel], y[sel], 1, full=True)
        resid = float(res[0]) if res.size else 0.0
        if resid < best[0]:
            best = (resid, float(coef[0]), float(ts[sel[0]]))
    return (best[1], best[2]) if full_output else best[1]
