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

The flint backend evaluates the same expressions in ``arb`` balls at the working
precision (``flint.ctx.prec``, 53 bits unless set), which is rigorous.
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
        """``max |x|`` over the interval."""
        return np.maximum(np.abs(self.lo), np.abs(self.hi))

    def __repr__(self):
        return f"IA(lo={self.lo!r}, hi={self.hi!r})"

    # --------------------------------------------------------- arithmetic
    def __neg__(self):
        return IA(-self.hi, -self.lo)

    def __pos__(self):
        return self

    def __add__(self, other):
        if isinstance(other, IA):
            return IA(_down(self.lo + other.lo), _up(self.hi + other.hi))
        o = np.asarray(other, dtype=np.float64)
        return IA(_down(self.lo + o), _up(self.hi + o))

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, IA):
            return IA(_down(self.lo - other.hi), _up(self.hi - other.lo))
        o = np.asarray(other, dtype=np.float64)
        return IA(_down(self.lo - o), _up(self.hi - o))

    def __rsub__(self, other):
        o = np.asarray(other, dtype=np.float64)
        return IA(_down(o - self.hi), _up(o - self.lo))

    def __mul__(self, other):
        if isinstance(other, IA):
            a, b, c, d = self.lo * other.lo, self.lo * other.hi, self.hi * other.lo, self.hi * other.hi
            lo = np.minimum(np.minimum(a, b), np.minimum(c, d))
            hi = np.maximum(np.maximum(a, b), np.maximum(c, d))
            return IA(_down(lo), _up(hi))
        o = np.asarray(other, dtype=np.float64)
        a, b = self.lo * o, self.hi * o
        return IA(_down(np.minimum(a, b)), _up(np.maximum(a, b)))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, IA):
            return self * recip(other)
        o = np.asarray(other, dtype=np.float64)
        a, b = self.lo / o, self.hi / o
        return IA(_down(np.minimum(a, b)), _up(np.maximum(a, b)))


def point(x) -> IA:
    """The degenerate interval ``[x, x]`` (``x`` exact)."""
    x = np.asarray(x, dtype=np.float64)
    return IA(x, x)


def interval(lo, hi) -> IA:
    return IA(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))


def _widen(lo, hi):
    return (_down(lo - (np.abs(lo) * REL_ERR + ABS_ERR)), _up(hi + (np.abs(hi) * REL_ERR + ABS_ERR)))


def exp(x: IA) -> IA:
    """Enclosure of ``exp`` (monotone; endpoint values widened by the assumed error bound)."""
    with np.errstate(over="ignore", under="ignore"):
        lo, hi = _widen(np.exp(x.lo), np.exp(x.hi))
    return IA(np.maximum(lo, 0.0), hi)


def log1p(x: IA) -> IA:
    """Enclosure of ``log(1 + x)`` (monotone; endpoint values widened by the assumed error
    bound, which is relative, so small ``x`` keep their relative accuracy).  Requires
    ``x.lo > -1``; otherwise the result is ``[-inf, inf]`` (no sign test can pass on it)."""
    bad = ~(x.lo > -1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = _widen(np.log1p(np.where(bad, 0.0, x.lo)), np.log1p(np.where(bad, 0.0, x.hi)))
    return IA(np.where(bad, -_INF, lo), np.where(bad, _INF, hi))


def recip(x: IA) -> IA:
    """``1 / x`` for intervals not containing 0 (``x.lo > 0`` or ``x.hi < 0``); else ``[-inf, inf]``."""
    with np.errstate(divide="ignore", over="ignore"):
        lo = _down(1.0 / x.hi)
        hi = _up(1.0 / x.lo)
    bad = (x.lo <= 0.0) & (x.hi >= 0.0)
    return IA(np.where(bad, -_INF, lo), np.where(bad, _INF, hi))


def sqr(x: IA) -> IA:
    """``x**2`` with the dependency handled (non-negative)."""
    a, b = x.lo * x.lo, x.hi * x.hi
    hi = _up(np.maximum(a, b))
    lo = np.where((x.lo <= 0.0) & (x.hi >= 0.0), 0.0, np.maximum(_down(np.minimum(a, b)), 0.0))
    return IA(lo, hi)


def _contains_shifted_period(lo, hi, shift):
    """Whether some ``shift + 2 k pi`` lies in ``[lo - tol, hi + tol]`` (conservative)."""
    k = np.ceil((lo - shift - _EXTREMUM_TOL) / _TWO_PI)
    return k * _TWO_PI + shift <= hi + _EXTREMUM_TOL


def _trig(x: IA, f, max_at, min_at) -> IA:
    vlo, vhi = f(x.lo), f(x.hi)
    lo, hi = _widen(np.minimum(vlo, vhi), np.maximum(vlo, vhi))
    hi = np.where(_contains_shifted_period(x.lo, x.hi, max_at), 1.0, hi)
    lo = np.where(_contains_shifted_period(x.lo, x.hi, min_at), -1.0, lo)
    full = (x.hi - x.lo >= _TWO_PI) | (np.maximum(np.abs(x.lo), np.abs(x.hi)) > 1e6) | ~np.isfinite(x.lo + x.hi)
    lo = np.where(full, -1.0, np.maximum(lo, -1.0))
    hi = np.where(full, 1.0, np.minimum(hi, 1.0))
    return IA(lo, hi)


def cos(x: IA) -> IA:
    """Enclosure of ``cos`` (maxima at ``2 k pi``, minima at ``pi + 2 k pi``)."""
    return _trig(x, np.cos, 0.0, np.pi)


def sin(x: IA) -> IA:
    """Enclosure of ``sin`` (maxima at ``pi/2 + 2 k pi``, minima at ``-pi/2 + 2 k pi``)."""
    return _trig(x, np.sin, 0.5 * np.pi, -0.5 * np.pi)


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
        """``max |x|`` as an exact point of the backend."""
        return point(x.mag())


class FI:
    """A closed interval ``[lo, hi]`` whose endpoints are exact ``flint.arb`` numbers.

    Every operation evaluates the endpoint formulas in arb ball arithmetic and keeps
    the outer endpoint of the resulting ball (``lower()`` of the ball for a lower
    bound, ``upper()`` for an upper bound), so the result encloses the exact range;
    unlike midpoint-radius balls, wide boxes keep interval-arithmetic tightness
    (``[1, 3] * [1, 3] = [1, 9]``, not ``4 +/- 5``).
    """

    __slots__ = ("lo", "hi")

    def __init__(self, lo, hi=None):
        self.lo = lo
        self.hi = lo if hi is None else hi

    @staticmethod
    def _c(x):
        if isinstance(x, FI):
            return x
        a = _ARB(float(x)) if not isinstance(x, int) else _ARB(x)
        return FI(a, a)

    def __repr__(self):
        return f"FI([{float(self.lo)!r}, {float(self.hi)!r}])"

    def __neg__(self):
        return FI(-self.hi, -self.lo)

    def __add__(self, o):
        o = FI._c(o)
        return FI((self.lo + o.lo).lower(), (self.hi + o.hi).upper())

    __radd__ = __add__

    def __sub__(self, o):
        o = FI._c(o)
        return FI((self.lo - o.hi).lower(), (self.hi - o.lo).upper())

    def __rsub__(self, o):
        return FI._c(o) - self

    def __mul__(self, o):
        o = FI._c(o)
        ps = [self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi]
        lo = ps[0].lower()
        hi = ps[0].upper()
        for p in ps[1:]:
            pl, pu = p.lower(), p.upper()
            if pl < lo:
                lo = pl
            if pu > hi:
                hi = pu
        return FI(lo, hi)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, FI):
            return self * _fi_recip(o)
        o = FI._c(o)
        return self * _fi_recip(o)


_ARB = None


def _fi_recip(x: FI) -> FI:
    if x.lo > 0 or x.hi < 0:
        return FI((1 / x.hi).lower(), (1 / x.lo).upper())
    return FI(_ARB.neg_inf(), _ARB.pos_inf())


def _fi_trig(x: FI, f, max_at, min_at, pi) -> FI:
    a, b = x.lo, x.hi
    fa, fb = f(a), f(b)
    lo = fa.lower() if fa.lower() < fb.lower() else fb.lower()
    hi = fa.upper() if fa.upper() > fb.upper() else fb.upper()
    two_pi = 2 * pi
    if bool((b - a) >= two_pi) or not (abs(float(a)) < 1e6 and abs(float(b)) < 1e6):
        return FI(_ARB(-1), _ARB(1))
    for shift, is_max in ((max_at, True), (min_at, False)):
        sh = Fraction(shift)
        sp = pi * sh.numerator / sh.denominator
        t_lo = float(((a - sp) / two_pi).lower()) - 1e-12
        t_hi = float(((b - sp) / two_pi).upper()) + 1e-12
        if math.ceil(t_lo) <= math.floor(t_hi):
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
        if not x.lo > -1:
            raise ValueError("log1p of an interval reaching -1")
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
        return _fi_trig(x, lambda z: z.cos(), 0, 1, self._pi)

    def sin(self, x):
        return _fi_trig(x, lambda z: z.sin(), Fraction(1, 2), Fraction(-1, 2), self._pi)

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
        a, b = abs(x.lo), abs(x.hi)
        m = a if a > b else b
        return FI(m, m)


NUMPY = NumpyBackend()
