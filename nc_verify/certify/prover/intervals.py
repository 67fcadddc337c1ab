"""Interval arithmetic for the landscape prover: a vectorised numpy layer and a flint layer.

Two *backends* expose the same small vocabulary (``point``, ``interval``, ``cos``,
``sin``, ``exp``, ``log1p``, ``recip``, ``sqr``, ``pi_multiple``, sign tests), so that the
enclosure formulas of :mod:`.enclosures` are written once and evaluated either

* on :class:`IA` -- numpy arrays of lower and upper bounds, one entry per box of a
  batch (the branch and bound of :mod:`.bnb`, thousands of boxes per operation), or
* on ``flint.arb`` balls (the checker of :mod:`.proof`; rigorous by construction).

Rounding model of :class:`IA` (documented error bounds)
------------------------------------------------------
* ``+``, ``-``, ``*``, ``/`` are IEEE-754 binary64 operations, correctly rounded to
  nearest, so the exact result of an operation on floats lies within half an ulp
  of the computed one; every bound is then moved one ulp outwards with
  :func:`numpy.nextafter`.  Products of intervals take the min/max of the four
  endpoint products (rounding to nearest is monotone, so the true extremes lie
  within the moved bounds).
* ``exp``, ``log1p``, ``sin``, ``cos`` come from numpy's float64 ufuncs (glibc: < 1 ulp;
  numpy's SVML/AVX-512 kernels: <= 4 ulp).  We *assume* a relative error of at
  most ``2**-44`` (about 256 ulp, 64 times the worst documented figure) and widen
  every computed value by ``|y| * 2**-44 + 2**-1000`` on each side (the absolute
  term covers underflow).  ``tests/certify/test_prover_intervals.py`` checks this
  against python-flint on random inputs, including arguments next to multiples of
  ``pi/2`` and large negative arguments of ``exp``.
* The extrema of ``sin``/``cos`` inside an interval are located with a tolerance of
  ``1e-9`` (an extremum within ``1e-9`` outside the interval is included), which
  can only widen the result; arguments of magnitude above ``1e6`` give ``[-1, 1]``.
* ``pi`` is the interval ``[fl(pi), nextafter(fl(pi), inf)]`` (``fl(pi) < pi``).
* NaN-safe: an operation whose endpoint formula produces NaN anywhere (``0 * inf``,
  ``inf - inf``, a NaN input, a division by an exact 0) returns the whole line
  ``[-inf, inf]`` for that entry, on which no sign test passes.  Every product's four
  endpoint products are checked, not only their minimum and maximum (``numpy.minimum``
  would propagate a NaN, Python's ``min`` would drop it).

The flint backend evaluates the same expressions in ``arb`` balls at the working
precision (``flint.ctx.prec``, 53 bits unless set), which is rigorous; its intervals
(:class:`FI`) are NaN-safe by the same rule.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

_INF = np.inf
REL_ERR = 2.0 ** -44          # assumed relative error bound of numpy exp/log1p/sin/cos (see module doc)
ABS_ERR = 2.0 ** -1000        # absolute slack (underflow)
_EXTREMUM_TOL = 1e-9
_TWO_PI = 2.0 * np.pi
PI_LO = float(np.pi)                          # fl(pi) < pi
PI_HI = float(np.nextafter(np.pi, np.inf))    # > pi


def _down(x):
    return np.nextafter(x, -_INF)


def _up(x):
    return np.nextafter(x, _INF)


def _safe(lo, hi) -> "IA":
    """``IA(lo, hi)`` with every entry that has a NaN endpoint replaced by ``[-inf, inf]``."""
    bad = np.isnan(lo) | np.isnan(hi)
    if np.any(bad):
        lo = np.where(bad, -_INF, lo)
        hi = np.where(bad, _INF, hi)
    return IA(lo, hi)


def _nan_any(*arrays):
    """Entrywise: whether any of the arrays is NaN there."""
    out = np.isnan(arrays[0])
    for a in arrays[1:]:
        out = out | np.isnan(a)
    return out


class IA:
    """Arrays of closed intervals ``[lo, hi]`` (any shape, numpy broadcasting).

    Parameters
    ----------
    lo, hi : array_like of float64, same shape
        Lower and upper bounds (``lo <= hi``; not checked, for speed).

    Notes
    -----
    Arithmetic with plain Python/numpy floats treats them as exact points.
    """

    __slots__ = ("lo", "hi")
    __array_priority__ = 1000
    __array_ufunc__ = None        # numpy defers to IA's reflected operators

    def __init__(self, lo, hi=None):
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = self.lo if hi is None else np.asarray(hi, dtype=np.float64)

    # ------------------------------------------------------------ helpers
    @property
    def shape(self):
        return np.broadcast_shapes(self.lo.shape, self.hi.shape)

    def __getitem__(self, idx):
        return IA(self.lo[idx], self.hi[idx])

    def mid(self):
        """Midpoint (float; not an enclosure)."""
        return 0.5 * self.lo + 0.5 * self.hi

    def width(self):
        return self.hi - self.lo

    def mag(self):
        """``max |x|`` over the interval (``inf`` where an endpoint is NaN)."""
        m = np.maximum(np.abs(self.lo), np.abs(self.hi))
        return np.where(np.isnan(m), _INF, m)

    def __repr__(self):
        return f"IA(lo={self.lo!r}, hi={self.hi!r})"

    # --------------------------------------------------------- arithmetic
    def __neg__(self):
        return IA(-self.hi, -self.lo)

    def __pos__(self):
        return self

    @np.errstate(invalid="ignore")
    def __add__(self, other):
        if isinstance(other, IA):
            return _safe(_down(self.lo + other.lo), _up(self.hi + other.hi))
        o = np.asarray(other, dtype=np.float64)
        return _safe(_down(self.lo + o), _up(self.hi + o))

    __radd__ = __add__

    @np.errstate(invalid="ignore")
    def __sub__(self, other):
        if isinstance(other, IA):
            return _safe(_down(self.lo - other.hi), _up(self.hi - other.lo))
        o = np.asarray(other, dtype=np.float64)
        return _safe(_down(self.lo - o), _up(self.hi - o))

    @np.errstate(invalid="ignore")
    def __rsub__(self, other):
        o = np.asarray(other, dtype=np.float64)
        return _safe(_down(o - self.hi), _up(o - self.lo))

    def __mul__(self, other):
        if isinstance(other, IA):
            with np.errstate(invalid="ignore"):
                a, b, c, d = self.lo * other.lo, self.lo * other.hi, self.hi * other.lo, self.hi * other.hi
            lo = np.minimum(np.minimum(a, b), np.minimum(c, d))     # NaN if any product is NaN
            hi = np.maximum(np.maximum(a, b), np.maximum(c, d))
            return _safe(_down(lo), _up(hi))
        o = np.asarray(other, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            a, b = self.lo * o, self.hi * o
        return _safe(_down(np.minimum(a, b)), _up(np.maximum(a, b)))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, IA):
            return self * recip(other)
        o = np.asarray(other, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            a, b = self.lo / o, self.hi / o
        zero = o == 0.0                                   # division by an exact 0: undefined
        a, b = np.where(zero, np.nan, a), np.where(zero, np.nan, b)
        return _safe(_down(np.minimum(a, b)), _up(np.maximum(a, b)))


def point(x) -> IA:
    """The degenerate interval ``[x, x]`` (``x`` exact; NaN entries give ``[-inf, inf]``)."""
    x = np.asarray(x, dtype=np.float64)
    return _safe(x, x)


def interval(lo, hi) -> IA:
    """``[lo, hi]`` (NaN entries give ``[-inf, inf]``)."""
    return _safe(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))


def _widen(lo, hi):
    return (_down(lo - (np.abs(lo) * REL_ERR + ABS_ERR)), _up(hi + (np.abs(hi) * REL_ERR + ABS_ERR)))


def _libm_values(f):
    """Enclosures of ``f`` at float points from numpy's ufunc, widened by the assumed error bound."""
    def values(a):
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            y = f(a)
        return _widen(y, y)
    return values


def _exp(x: IA, values) -> IA:
    lo, hi = values(x.lo)[0], values(x.hi)[1]
    return _safe(np.maximum(lo, 0.0), hi)


def _log1p(x: IA, values) -> IA:
    bad = ~(x.lo > -1.0) | np.isnan(x.hi)
    lo, hi = values(np.where(bad, 0.0, x.lo))[0], values(np.where(bad, 0.0, x.hi))[1]
    return _safe(np.where(bad, -_INF, lo), np.where(bad, _INF, hi))


def exp(x: IA) -> IA:
    """Enclosure of ``exp`` (monotone; endpoint values widened by the assumed error bound)."""
    return _exp(x, _libm_values(np.exp))


def log1p(x: IA) -> IA:
    """Enclosure of ``log(1 + x)`` (monotone; endpoint values widened by the assumed error
    bound, which is relative, so small ``x`` keep their relative accuracy).  Requires
    ``x.lo > -1``; otherwise the result is ``[-inf, inf]`` (no sign test can pass on it)."""
    return _log1p(x, _libm_values(np.log1p))


def recip(x: IA) -> IA:
    """``1 / x`` for intervals not containing 0 (``x.lo > 0`` or ``x.hi < 0``); else ``[-inf, inf]``."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        lo = _down(1.0 / x.hi)
        hi = _up(1.0 / x.lo)
    bad = ((x.lo <= 0.0) & (x.hi >= 0.0)) | _nan_any(x.lo, x.hi)
    return IA(np.where(bad, -_INF, lo), np.where(bad, _INF, hi))


def sqr(x: IA) -> IA:
    """``x**2`` with the dependency handled (non-negative)."""
    a, b = x.lo * x.lo, x.hi * x.hi
    hi = _up(np.maximum(a, b))
    lo = np.where((x.lo <= 0.0) & (x.hi >= 0.0), 0.0, np.maximum(_down(np.minimum(a, b)), 0.0))
    return _safe(lo, hi)


def _contains_shifted_period(lo, hi, shift):
    """Whether some ``shift + 2 k pi`` lies in ``[lo - tol, hi + tol]`` (conservative)."""
    k = np.ceil((lo - shift - _EXTREMUM_TOL) / _TWO_PI)
    return k * _TWO_PI + shift <= hi + _EXTREMUM_TOL


def _trig(x: IA, values, max_at, min_at) -> IA:
    """``values(points) -> (lo, hi)`` encloses cos or sin at float points; the extrema inside ``x``
    (``max_at``, ``min_at`` modulo ``2 pi``) are added."""
    (alo, ahi), (blo, bhi) = values(x.lo), values(x.hi)
    lo, hi = np.minimum(alo, blo), np.maximum(ahi, bhi)
    hi = np.where(_contains_shifted_period(x.lo, x.hi, max_at), 1.0, hi)
    lo = np.where(_contains_shifted_period(x.lo, x.hi, min_at), -1.0, lo)
    full = (x.hi - x.lo >= _TWO_PI) | (np.maximum(np.abs(x.lo), np.abs(x.hi)) > 1e6) | ~np.isfinite(x.lo + x.hi)
    lo = np.where(full, -1.0, np.maximum(lo, -1.0))
    hi = np.where(full, 1.0, np.minimum(hi, 1.0))
    return IA(lo, hi)


def cos(x: IA) -> IA:
    """Enclosure of ``cos`` (maxima at ``2 k pi``, minima at ``pi + 2 k pi``)."""
    return _trig(x, _libm_values(np.cos), 0.0, np.pi)


def sin(x: IA) -> IA:
    """Enclosure of ``sin`` (maxima at ``pi/2 + 2 k pi``, minima at ``-pi/2 + 2 k pi``)."""
    return _trig(x, _libm_values(np.sin), 0.5 * np.pi, -0.5 * np.pi)


# ----------------------------------------------------------------- backends
class NumpyBackend:
    """Backend on :class:`IA` arrays (one entry per box)."""

    name = "numpy"
    point = staticmethod(point)
    interval = staticmethod(interval)
    exp = staticmethod(exp)
    log1p = staticmethod(log1p)
    recip = staticmethod(recip)
    sqr = staticmethod(sqr)
    cos = staticmethod(cos)
    sin = staticmethod(sin)

    @staticmethod
    def pi_multiple(q: Fraction) -> IA:
        """Enclosure of ``q * pi`` for a rational ``q``."""
        q = Fraction(q)
        num = IA(PI_LO, PI_HI) * float(q.numerator)    # exact small integer
        return num / float(q.denominator) if q.denominator != 1 else num

    @staticmethod
    def const(x) -> IA:
        """An enclosure of the real number ``x`` (a float, or a ``Fraction``)."""
        if isinstance(x, Fraction):
            return point(float(x.numerator)) / float(x.denominator)
        return point(x)

    @staticmethod
    def is_pos(x):
        return x.lo > 0.0

    @staticmethod
    def is_neg(x):
        return x.hi < 0.0

    @staticmethod
    def lower(x):
        return x.lo

    @staticmethod
    def upper(x):
        return x.hi

    @staticmethod
    def mid(x):
        return x.mid()

    @staticmethod
    def mag(x):
        return x.mag()

    @staticmethod
    def abs_upper(x):
        """``[0, max |x|]``: an enclosure of ``|x|`` whose lower end is 0 (so that ``a - abs_upper(x)``
        has the lower bound ``a.lo - max |x|`` of Gershgorin's rule and still encloses ``a - |x|``)."""
        return IA(np.zeros_like(x.mag()), x.mag())

    @staticmethod
    def intersect(x, y):
        """``x & y`` for two enclosures of the same quantity (contains it if both do).  An empty
        intersection (which valid enclosures cannot give) is the whole line: no sign test passes."""
        lo, hi = np.maximum(x.lo, y.lo), np.minimum(x.hi, y.hi)
        bad = ~(lo <= hi)
        return IA(np.where(bad, -_INF, lo), np.where(bad, _INF, hi))


#: Bits of the arb balls of :class:`CheckedNumpyBackend`'s function values (53 gives balls about an
#: ulp wide, so enclosures of 6 ulps; 64 gives 3).
ARB_VALUE_PREC = 64


def _arb_values(method: str):
    """Enclosures of an arb function at float points, one ball per distinct point: ``values(a) ->
    (lo, hi)`` with ``lo <= f(a) <= hi`` proved by arb (no assumed libm error bound).

    The balls are computed at :data:`ARB_VALUE_PREC` bits (radius far below an ulp); converting
    their ends to floats (to nearest: within half an ulp) and moving them one ulp outwards keeps
    the enclosure, at most about 3 ulps wide.  A point where ``f`` is
    not finite in arb (an overflowing ``exp``, a NaN) gives NaN, which :class:`IA` turns into
    the whole line.
    """
    def values(a):
        from nc_verify.certify._flint import flint, working_precision

        arb = flint().arb
        a = np.asarray(a, dtype=np.float64)
        uniq, inverse = np.unique(a, return_inverse=True)
        lo, hi = np.full(uniq.shape, np.nan), np.full(uniq.shape, np.nan)
        with working_precision(ARB_VALUE_PREC):
            for i, z in enumerate(uniq.tolist()):
                if math.isfinite(z):
                    b = getattr(arb(z), method)()
                    if b.is_finite():
                        lo[i], hi[i] = float(b.lower()), float(b.upper())
                elif method == "exp" and z == -_INF:
                    lo[i] = hi[i] = 0.0
        return _down(lo[inverse].reshape(a.shape)), _up(hi[inverse].reshape(a.shape))
    return values


_ARB_EXP, _ARB_LOG1P, _ARB_COS, _ARB_SIN = (_arb_values(f) for f in ("exp", "log1p", "cos", "sin"))


class CheckedNumpyBackend(NumpyBackend):
    """:class:`NumpyBackend` whose ``exp``, ``log1p``, ``cos`` and ``sin`` take their endpoint values
    from arb balls: rigorous without the assumed libm error bound.

    The arithmetic is :class:`IA`'s (IEEE-754 binary64 operations moved one ulp outwards,
    rigorous wherever the hardware rounds to nearest as IEEE-754 requires), the extrema of
    ``cos``/``sin`` inside an interval are located as in :func:`cos` (an inclusion only
    widens), and each distinct float point costs one arb evaluation.  The checker evaluates
    whole batches of leaves with it (:func:`~.proof.check_landscape_proof`), the
    enclosure formulas being those of the prover and of the scalar flint checker.
    """

    name = "numpy+arb"

    @staticmethod
    def exp(x):
        return _exp(x, _ARB_EXP)

    @staticmethod
    def log1p(x):
        return _log1p(x, _ARB_LOG1P)

    @staticmethod
    def cos(x):
        return _trig(x, _ARB_COS, 0.0, np.pi)

    @staticmethod
    def sin(x):
        return _trig(x, _ARB_SIN, 0.5 * np.pi, -0.5 * np.pi)


class FI:
    """A closed interval ``[lo, hi]`` whose endpoints are exact ``flint.arb`` numbers.

    Every operation evaluates the endpoint formulas in arb ball arithmetic and keeps
    the outer endpoint of the resulting ball (``lower()`` of the ball for a lower
    bound, ``upper()`` for an upper bound), so the result encloses the exact range;
    unlike midpoint-radius balls, wide boxes keep interval-arithmetic tightness
    (``[1, 3] * [1, 3] = [1, 9]``, not ``4 +/- 5``).

    NaN-safe: an interval built with a NaN endpoint is the whole line ``[-inf, inf]``,
    and a product any of whose four endpoint products is NaN (``0 * inf``) is the whole
    line too (comparisons with NaN are false, so a running minimum would drop it).
    """

    __slots__ = ("lo", "hi")

    def __init__(self, lo, hi=None):
        hi = lo if hi is None else hi
        if lo.is_nan() or hi.is_nan():
            lo, hi = _ARB.neg_inf(), _ARB.pos_inf()
        self.lo = lo
        self.hi = hi

    @classmethod
    def _exact(cls, lo, hi):
        """``[lo, hi]`` from endpoints known not to be NaN (no check)."""
        out = object.__new__(cls)
        out.lo = lo
        out.hi = hi
        return out

    @staticmethod
    def _c(x):
        if isinstance(x, FI):
            return x
        a = _ARB(float(x)) if not isinstance(x, int) else _ARB(x)
        return FI(a, a)

    def __repr__(self):
        return f"FI([{float(self.lo)!r}, {float(self.hi)!r}])"

    def __neg__(self):
        return FI._exact(-self.hi, -self.lo)

    def __add__(self, o):
        if isinstance(o, FI):
            return FI((self.lo + o.lo).lower(), (self.hi + o.hi).upper())
        c = _ARB(o) if isinstance(o, int) else _ARB(float(o))
        return FI((self.lo + c).lower(), (self.hi + c).upper())

    __radd__ = __add__

    def __sub__(self, o):
        if isinstance(o, FI):
            return FI((self.lo - o.hi).lower(), (self.hi - o.lo).upper())
        c = _ARB(o) if isinstance(o, int) else _ARB(float(o))
        return FI((self.lo - c).lower(), (self.hi - c).upper())

    def __rsub__(self, o):
        return FI._c(o) - self

    def __mul__(self, o):
        a, b = self.lo, self.hi
        if not isinstance(o, FI):
            if isinstance(o, (int, float)) and math.isfinite(o) and a.is_finite() and b.is_finite():
                # an exact scalar: two products, the order given by its sign
                c = _ARB(o) if isinstance(o, int) else _ARB(float(o))
                if o >= 0:
                    return FI._exact((a * c).lower(), (b * c).upper())
                return FI._exact((b * c).lower(), (a * c).upper())
            o = FI._c(o)
        c, d = o.lo, o.hi
        if a.is_finite() and b.is_finite() and c.is_finite() and d.is_finite():
            # finite endpoints: the extreme corners by the signs (two products unless both straddle 0)
            if a >= 0:
                lo, hi = (a * c, b * d) if c >= 0 else (b * c, a * d) if d <= 0 else (b * c, b * d)
            elif b <= 0:
                lo, hi = (a * d, b * c) if c >= 0 else (b * d, a * c) if d <= 0 else (a * d, a * c)
            elif c >= 0:
                lo, hi = a * d, b * d
            elif d <= 0:
                lo, hi = b * c, a * c
            else:
                lo1, lo2, hi1, hi2 = (a * d).lower(), (b * c).lower(), (a * c).upper(), (b * d).upper()
                return FI._exact(lo1 if lo1 < lo2 else lo2, hi1 if hi1 > hi2 else hi2)
            return FI._exact(lo.lower(), hi.upper())
        ps = [a * c, a * d, b * c, b * d]
        lows = [p.lower() for p in ps]
        ups = [p.upper() for p in ps]
        if any(z.is_nan() for z in lows + ups):
            return FI(_ARB.nan())
        lo, hi = lows[0], ups[0]
        for pl, pu in zip(lows[1:], ups[1:]):
            if pl < lo:
                lo = pl
            if pu > hi:
                hi = pu
        return FI(lo, hi)

    __rmul__ = __mul__

    def __truediv__(self, o):
        a, b = self.lo, self.hi
        if (not isinstance(o, FI) and isinstance(o, (int, float)) and math.isfinite(o) and o != 0
                and a.is_finite() and b.is_finite()):
            # an exact nonzero scalar: one rounding per end instead of an enclosed reciprocal
            c = _ARB(o) if isinstance(o, int) else _ARB(float(o))
            if o > 0:
                return FI._exact((a / c).lower(), (b / c).upper())
            return FI._exact((b / c).lower(), (a / c).upper())
        return self * _fi_recip(FI._c(o))


_ARB = None


def _arb_cos(z):
    return z.cos()


def _arb_sin(z):
    return z.sin()


def _fi_recip(x: FI) -> FI:
    if x.lo > 0 or x.hi < 0:
        return FI((1 / x.hi).lower(), (1 / x.lo).upper())
    return FI(_ARB.neg_inf(), _ARB.pos_inf())


def _fi_trig(x: FI, f, max_at, min_at) -> FI:
    """``f`` (cos or sin) on ``x``: the endpoint values, and 1 / -1 where ``x`` (widened by 1e-12
    turns) meets ``max_at + 2 k pi`` / ``min_at + 2 k pi`` (``max_at``, ``min_at``: arb balls)."""
    a, b = x.lo, x.hi
    fa, fb = f(a), f(b)
    lo, lo2, hi, hi2 = fa.lower(), fb.lower(), fa.upper(), fb.upper()
    if lo2 < lo:
        lo = lo2
    if hi2 > hi:
        hi = hi2
    af, bf = float(a), float(b)
    if not (abs(af) < 1e6 and abs(bf) < 1e6) or bf - af >= _TWO_PI:
        return FI(_ARB(-1), _ARB(1))
    # whether max_at + 2 k pi (min_at + 2 k pi) lies in [a, b], in turns t = (x - shift) / (2 pi), in
    # floats: float(a) is within one ulp of a, and the subtraction and the division add a few ulps,
    # so the computed t is within (|a| + 4) 2**-50 of the exact one; the margin is four times that
    # plus 1e-12 turns (an extremum just outside the interval is included: that only widens)
    margin = 1e-12 + (max(abs(af), abs(bf)) + 4.0) * 2.0 ** -48
    for sp, is_max in ((max_at, True), (min_at, False)):
        spf = float(sp)
        if math.ceil((af - spf) / _TWO_PI - margin) <= math.floor((bf - spf) / _TWO_PI + margin):
            if is_max:
                hi = _ARB(1)
            else:
                lo = _ARB(-1)
    if lo < -1:
        lo = _ARB(-1)
    if hi > 1:
        hi = _ARB(1)
    return FI(lo, hi)


class FlintBackend:
    """Backend on :class:`FI` intervals with python-flint ``arb`` endpoints (one box at a time);
    rigorous at ``flint.ctx.prec`` (53 bits unless set)."""

    name = "flint"

    def __init__(self):
        global _ARB
        from nc_verify.certify._flint import flint

        self.fl = flint()
        self.arb = self.fl.arb
        _ARB = self.arb
        self._pi = self.arb.pi()
        self._pi_2, self._0 = self._pi / 2, self.arb(0)

    def point(self, x):
        a = self.arb(float(x))
        return FI(a, a)

    def interval(self, lo, hi):
        return FI(self.arb(float(lo)), self.arb(float(hi)))

    def const(self, x):
        if isinstance(x, Fraction):
            b = self.arb(x.numerator) / x.denominator
        else:
            b = self.arb(float(x))
        return FI(b.lower(), b.upper())

    def pi_multiple(self, q):
        q = Fraction(q)
        b = self._pi * q.numerator / q.denominator
        return FI(b.lower(), b.upper())

    @staticmethod
    def exp(x):
        return FI(x.lo.exp().lower(), x.hi.exp().upper())

    @staticmethod
    def log1p(x):
        """``log(1 + x)``; the whole line when ``x`` reaches ``-1`` (as the numpy layer)."""
        if not x.lo > -1:
            return FI(_ARB.neg_inf(), _ARB.pos_inf())
        return FI(x.lo.log1p().lower(), x.hi.log1p().upper())

    @staticmethod
    def recip(x):
        return _fi_recip(x)

    @staticmethod
    def sqr(x):
        a, b = abs(x.lo), abs(x.hi)
        big = a if a > b else b
        hi = (big * big).upper()
        if x.lo <= 0 and x.hi >= 0:
            return FI(_ARB(0), hi)
        small = b if a > b else a
        return FI((small * small).lower(), hi)

    def cos(self, x):
        return _fi_trig(x, _arb_cos, self._0, self._pi)

    def sin(self, x):
        return _fi_trig(x, _arb_sin, self._pi_2, -self._pi_2)

    @staticmethod
    def is_pos(x):
        return bool(x.lo > 0)

    @staticmethod
    def is_neg(x):
        return bool(x.hi < 0)

    @staticmethod
    def lower(x):
        return x.lo

    @staticmethod
    def upper(x):
        return x.hi

    @staticmethod
    def mid(x):
        return float((x.lo + x.hi) / 2)

    @staticmethod
    def abs_upper(x):
        """``[0, max |x|]`` (see :meth:`NumpyBackend.abs_upper`)."""
        a, b = abs(x.lo), abs(x.hi)
        m = a if a > b else b
        return FI(_ARB(0), m)

    @staticmethod
    def intersect(x, y):
        """``x & y`` (see :meth:`NumpyBackend.intersect`)."""
        lo = x.lo if x.lo > y.lo else y.lo
        hi = x.hi if x.hi < y.hi else y.hi
        if not lo <= hi:
            return FI(_ARB.neg_inf(), _ARB.pos_inf())
        return FI(lo, hi)


NUMPY = NumpyBackend()
CHECKED_NUMPY = CheckedNumpyBackend()
