"""The prover's interval layers against python-flint.

Every primitive of the numpy layer (:class:`IA`) and of the flint-endpoint layer
(:class:`FI`) must contain the flint ball of the exact function value at every
sampled point of its argument intervals (endpoints included), on random inputs:
this is the containment property the proofs rest on.  The sampled inputs include
arguments next to multiples of pi/2 (where sin/cos have extrema or zeros) and the
underflow range of exp.
"""

import math

import numpy as np
import pytest

from nc_verify.certify._flint import flint, working_precision
from nc_verify.certify.prover import intervals as I

fl = flint()
arb = fl.arb
FB = I.FlintBackend()


def _random_intervals(rng, n, scale=3.0, special=()):
    a = rng.uniform(-scale, scale, n)
    w = rng.exponential(0.3, n) * rng.choice([0.0, 1e-12, 1.0, 5.0], n)
    lo, hi = a, a + w
    for s in special:
        lo = np.concatenate([lo, [s, s - 1e-9, s - 0.3, np.nextafter(s, -np.inf)]])
        hi = np.concatenate([hi, [s, s + 1e-9, s + 0.2, np.nextafter(s, np.inf)]])
    return lo, hi


def _samples(lo, hi, k=7):
    t = np.linspace(0.0, 1.0, k)
    pts = lo[:, None] + (hi - lo)[:, None] * t[None, :]
    return np.clip(pts, lo[:, None], hi[:, None])


# Reference balls are computed at 200 bits: their radius is ~2^-200 relative, so a ball
# sticking out of [lo, hi] by at most SLACK = 2^-150 can only be the reference's own radius
# at an exact bound (e.g. cos = -1 exactly, where the interval is clipped to -1); a real
# enclosure failure of a 53-bit computation would exceed 2^-60.
def _contains(lo, hi, ball):
    """[lo, hi] contains the exact value enclosed by the (200-bit) ball (compared at 200 bits)."""
    with working_precision(200):
        slack = arb(2) ** -150
        return bool(arb(float(lo)) - slack <= ball.lower()) and bool(ball.upper() <= arb(float(hi)) + slack)


def _fi_contains(x, ball):
    with working_precision(200):
        slack = arb(2) ** -150
        return bool(x.lo - slack <= ball.lower()) and bool(ball.upper() <= x.hi + slack)


@pytest.fixture(autouse=True)
def _prec200():
    old = fl.ctx.prec
    yield
    fl.ctx.prec = old


def _ref(f, *args):
    """f evaluated at 200 bits on exact float arguments."""
    old = fl.ctx.prec
    fl.ctx.prec = 200
    try:
        return f(*[arb(float(a)) for a in args])
    finally:
        fl.ctx.prec = old


UNARY = {
    "exp": (I.exp, FB.exp, lambda z: z.exp(), dict(scale=40.0, special=(-745.0, -700.0, 0.0, 700.0))),
    "sin": (I.sin, FB.sin, lambda z: z.sin(),
            dict(scale=10.0, special=tuple(k * math.pi / 2 for k in range(-6, 7)))),
    "cos": (I.cos, FB.cos, lambda z: z.cos(),
            dict(scale=10.0, special=tuple(k * math.pi / 2 for k in range(-6, 7)))),
    "log1p": (I.log1p, FB.log1p, lambda z: z.log1p(),
              dict(scale=0.5, special=(1e-300, 1e-18, 1e-8, 1.0, 30.0, 1e300))),
    "sqr": (I.sqr, FB.sqr, lambda z: z * z, dict(scale=5.0, special=(0.0,))),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_contains_flint_ball(name):
    f_ia, f_fi, f_arb, kw = UNARY[name]
    rng = np.random.default_rng(11)
    lo, hi = _random_intervals(rng, 300, **kw)
    r = f_ia(I.interval(lo, hi))
    pts = _samples(lo, hi)
    for i in range(len(lo)):
        fi = f_fi(FB.interval(lo[i], hi[i]))
        for x in pts[i]:
            ball = _ref(f_arb, x)
            assert _contains(r.lo[i], r.hi[i], ball), (name, lo[i], hi[i], x)
            assert _fi_contains(fi, ball), (name, lo[i], hi[i], x)


def test_recip_contains_flint_ball():
    rng = np.random.default_rng(12)
    lo = rng.uniform(1e-3, 5.0, 300) * rng.choice([-1.0, 1.0], 300)
    hi = lo + rng.exponential(0.5, 300)
    keep = (lo > 0) | (hi < 0)
    lo, hi = lo[keep], hi[keep]
    r = I.recip(I.interval(lo, hi))
    for i in range(len(lo)):
        fi = FB.recip(FB.interval(lo[i], hi[i]))
        for x in _samples(lo, hi)[i]:
            ball = _ref(lambda z: 1 / z, x)
            assert _contains(r.lo[i], r.hi[i], ball)
            assert _fi_contains(fi, ball)


def test_recip_of_interval_containing_zero_is_unbounded():
    r = I.recip(I.interval([-1.0], [2.0]))
    assert r.lo[0] == -np.inf and r.hi[0] == np.inf


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_contains_flint_ball(op):
    rng = np.random.default_rng(13)
    n = 300
    alo, ahi = _random_intervals(rng, n)
    blo, bhi = _random_intervals(rng, n)
    if op == "div":
        blo, bhi = np.abs(blo) + 0.1, np.abs(blo) + 0.1 + (bhi - blo)
    A, B = I.interval(alo, ahi), I.interval(blo, bhi)
    f = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
         "div": lambda x, y: x / y}[op]
    R = f(A, B)
    pa, pb = _samples(alo, ahi, 4), _samples(blo, bhi, 4)
    for i in range(n):
        fi = f(FB.interval(alo[i], ahi[i]), FB.interval(blo[i], bhi[i]))
        for x in pa[i]:
            for y in pb[i]:
                ball = _ref(f, x, y)
                assert _contains(R.lo[i], R.hi[i], ball), (op, i, x, y)
                assert _fi_contains(fi, ball)


def test_scalar_operations_and_pi():
    x = I.interval([0.1], [0.3])
    for s in (3.0, -2.5, 1e-300):
        r = x * s
        for v in (0.1, 0.3):
            assert _contains(r.lo[0], r.hi[0], _ref(lambda a, b: a * b, v, s))
    p = I.NUMPY.pi_multiple(I.Fraction(2, 3))
    assert _contains(p.lo, p.hi, _ref(lambda: arb.pi() * 2 / 3))
    with working_precision(200):          # fl(pi) is within 1.3e-16 of pi: 53-bit balls cannot tell
        assert bool(arb(I.PI_LO) < arb.pi()) and bool(arb(I.PI_HI) > arb.pi())


def test_trig_extrema_included():
    """cos over an interval containing 0 reaches 1; sin over one containing pi/2 reaches 1."""
    c = I.cos(I.interval([-0.1, 3.0], [0.1, 3.3]))
    assert c.hi[0] == 1.0 and c.lo[1] == -1.0
    s = I.sin(I.interval([1.5, -1.6], [1.6, -1.5]))
    assert s.hi[0] == 1.0 and s.lo[1] == -1.0
    assert FB.cos(FB.interval(-0.1, 0.1)).hi == 1 and FB.sin(FB.interval(-1.6, -1.5)).lo == -1


def test_log1p_outside_its_domain_is_the_whole_line():
    r = I.log1p(I.interval([-2.0, -1.0, -0.5], [-1.5, 0.0, 0.5]))
    assert np.all(r.lo[:2] == -np.inf) and np.all(r.hi[:2] == np.inf) and np.isfinite(r.lo[2])
    for lo in (-1.0, -2.0):                 # the flint layer refuses the same way (no exception)
        r = FB.log1p(FB.interval(lo, 0.0))
        assert r.lo == arb.neg_inf() and r.hi == arb.pos_inf()
    assert np.isfinite(float(FB.log1p(FB.interval(-0.5, 0.0)).lo))


def test_widths_are_tight():
    """The assumed error bound costs a relative 2^-44, no more (tolerance: 4 times that)."""
    x = I.point(np.array([0.7, -2.0, 10.0]))
    for f in (I.exp, I.log1p, I.sin, I.cos):
        r = f(I.point(np.array([0.7, 1e-12, 10.0])) if f is I.log1p else x)
        assert np.all(r.hi - r.lo <= 4 * 2.0 ** -44 * np.abs(r.mid()) + 1e-300)


# ------------------------------------------------------------------ NaN safety
# An operation whose endpoint formula meets 0 * inf, inf - inf or a NaN must return the whole
# line (no sign test passes on it), never a signed interval.  Each case is one the naive
# formula gets wrong: min/max over the four endpoint products in Python drops a NaN unless it
# comes first ([-1, 0] x [inf, inf] would come out [-inf, -inf], "definitely negative").
INF, NAN = np.inf, np.nan


def _whole_ia(r):
    return bool(np.all(r.lo == -INF) and np.all(r.hi == INF))


def _whole_fi(r):
    return r.lo == arb.neg_inf() and r.hi == arb.pos_inf()


def _undecided_ia(r):
    return not (np.any(r.lo > 0) or np.any(r.hi < 0))


def _undecided_fi(r):
    return not (FB.is_pos(r) or FB.is_neg(r))


def _fi(lo, hi):
    return I.FI(arb(lo), arb(hi))


NAN_CASES = [   # (name, numpy operation, flint operation)
    ("[-1,0] x [inf,inf]", lambda: I.interval(-1.0, 0.0) * I.interval(INF, INF),
     lambda: _fi(-1.0, 0.0) * _fi(INF, INF)),
    ("[inf,inf] x [-1,0]", lambda: I.interval(INF, INF) * I.interval(-1.0, 0.0),
     lambda: _fi(INF, INF) * _fi(-1.0, 0.0)),
    ("[0,0] x [inf,inf]", lambda: I.interval(0.0, 0.0) * I.interval(INF, INF),
     lambda: _fi(0.0, 0.0) * _fi(INF, INF)),
    ("[0,1] x inf (scalar)", lambda: I.interval(0.0, 1.0) * INF, lambda: _fi(0.0, 1.0) * INF),
    ("[inf,inf] - [inf,inf]", lambda: I.interval(INF, INF) - I.interval(INF, INF),
     lambda: _fi(INF, INF) - _fi(INF, INF)),
    ("[-inf,-1] + [inf,-1]", lambda: I.interval(-INF, -1.0) + I.interval(INF, -1.0),
     lambda: _fi(-INF, -1.0) + _fi(INF, -1.0)),
    ("inf - [inf,inf] (scalar)", lambda: INF - I.interval(INF, INF), lambda: INF - _fi(INF, INF)),
    ("[1,2] + nan", lambda: I.interval(1.0, 2.0) + NAN, lambda: _fi(1.0, 2.0) + NAN),
    ("[1,2] / 0", lambda: I.interval(1.0, 2.0) / 0.0, lambda: _fi(1.0, 2.0) / 0.0),
    ("point(nan)", lambda: I.point(NAN), lambda: FB.point(NAN)),
    ("interval(nan, 1)", lambda: I.interval(NAN, 1.0), lambda: FB.interval(NAN, 1.0)),
    ("log1p([0, nan])", lambda: I.log1p(I.IA(0.0, NAN)), lambda: FB.log1p(_fi(0.0, NAN))),
    ("recip([nan, 1])", lambda: I.recip(I.IA(NAN, 1.0)), lambda: FB.recip(_fi(NAN, 1.0))),
]


def test_gershgorin_term_of_an_undefined_entry_is_undecided():
    """1 - |x| with x undefined: lower end -inf (Gershgorin's test refuses), upper end 1 (still an
    enclosure).  The former pseudo-point max|x| gave [-inf, -inf] here, a sign."""
    r = I.point(1.0) - I.NUMPY.abs_upper(I.IA(NAN, 1.0))
    assert r.lo == -INF and r.hi >= 1.0 and not I.NUMPY.is_pos(r) and not I.NUMPY.is_neg(r)
    f = _fi(1.0, 1.0) - FB.abs_upper(_fi(NAN, 1.0))
    assert f.lo == arb.neg_inf() and f.hi >= 1 and _undecided_fi(f)


@pytest.mark.parametrize("name", ["exp", "sqr"])
def test_nonnegative_functions_of_an_undefined_interval(name):
    """exp and sqr of a NaN interval: numpy gives the whole line, flint (whose interval with a NaN
    end is already [-inf, inf]) gives [0, inf]; both contain every value and neither is decided
    positive (lower end 0 or below)."""
    r = getattr(I, name)(I.IA(NAN, 1.0))
    assert r.lo <= 0.0 and r.hi == INF and not I.NUMPY.is_pos(r)
    f = getattr(FB, name)(_fi(NAN, 1.0))
    assert f.lo <= 0 and f.hi == arb.pos_inf() and not FB.is_pos(f)


@pytest.mark.parametrize("name,np_op,fl_op", NAN_CASES, ids=[c[0] for c in NAN_CASES])
def test_nan_cases_give_the_whole_line(name, np_op, fl_op):
    r = np_op()
    assert _whole_ia(r) and _undecided_ia(r), (name, r)
    f = fl_op()
    assert _whole_fi(f) and _undecided_fi(f), (name, f)


def test_nan_product_in_any_position_is_caught():
    """The NaN product may be any of the four: the old flint loop kept only a first-place NaN.
    Each arrangement puts 0 * inf in another position; the wrong variant (running min/max
    with comparisons, which are false for NaN) is shown deciding a sign on one of them."""
    cases = [((0.0, 1.0), (INF, INF)), ((-1.0, 0.0), (INF, INF)), ((INF, INF), (0.0, 1.0)),
             ((INF, INF), (-1.0, 0.0)), ((-INF, -INF), (-1.0, 0.0))]
    for a, b in cases:
        assert _whole_ia(I.interval(*a) * I.interval(*b)), (a, b)
        assert _whole_fi(_fi(*a) * _fi(*b)), (a, b)

    def naive(x, y):                              # the audited rule: min/max by comparisons
        ps = [x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi]
        lo, hi = ps[0].lower(), ps[0].upper()
        for p in ps[1:]:
            if p.lower() < lo:
                lo = p.lower()
            if p.upper() > hi:
                hi = p.upper()
        return lo, hi
    lo, hi = naive(_fi(-1.0, 0.0), _fi(INF, INF))
    assert bool(hi < 0)                           # "definitely negative": the bug the rule fixes


def test_mixed_batch_keeps_finite_entries():
    """NaN safety is entrywise: the finite entries of a batch are unchanged."""
    x = I.interval([-1.0, 1.0], [0.0, 2.0])
    y = I.interval([INF, 3.0], [INF, 4.0])
    r = x * y
    assert r.lo[0] == -INF and r.hi[0] == INF
    assert r.lo[1] <= 3.0 <= r.lo[1] + 1e-15 and r.hi[1] >= 8.0 >= r.hi[1] - 1e-14


def test_infinite_but_not_nan_products_keep_their_sign():
    """[1, 2] x [1, inf] is [1, inf]: positive, decided (no NaN, no whole line)."""
    r = I.interval(1.0, 2.0) * I.interval(1.0, INF)
    assert r.lo < 1.0 and r.lo > 0.99 and r.hi == INF and I.NUMPY.is_pos(r)
    f = _fi(1.0, 2.0) * _fi(1.0, INF)
    assert FB.is_pos(f) and f.hi == arb.pos_inf()


# ------------------------------------------------------------- decisions on enclosures straddling 0
# Every sign decision must refuse on an enclosure that contains 0 -- straddling it by the
# smallest amount or touching it at an end (the decisions are strict: "> 0", "< 0").
TINY = 5e-324
STRADDLE = [(-TINY, 1.0), (-1.0, TINY), (0.0, 1.0), (-1.0, 0.0), (0.0, 0.0), (-1.0, 1.0)]


@pytest.mark.parametrize("lo,hi", STRADDLE)
def test_sign_tests_refuse_on_enclosures_containing_zero(lo, hi):
    from nc_verify.certify.prover.bnb import _pos_or_neg
    x = I.interval(lo, hi)
    assert not I.NUMPY.is_pos(x) and not I.NUMPY.is_neg(x) and not _pos_or_neg(x)
    f = FB.interval(lo, hi)
    assert not FB.is_pos(f) and not FB.is_neg(f)


def test_sign_tests_decide_just_off_zero():
    """The same tests decide once 0 is excluded by one subnormal (they are not simply always false)."""
    from nc_verify.certify.prover.bnb import _pos_or_neg
    assert I.NUMPY.is_pos(I.interval(TINY, 1.0)) and I.NUMPY.is_neg(I.interval(-1.0, -TINY))
    assert bool(_pos_or_neg(I.interval(TINY, 1.0))) and bool(_pos_or_neg(I.interval(-1.0, -TINY)))
    assert FB.is_pos(FB.interval(TINY, 1.0)) and FB.is_neg(FB.interval(-1.0, -TINY))


@pytest.mark.parametrize("lo,hi", STRADDLE)
def test_reciprocal_of_an_enclosure_containing_zero_is_the_whole_line(lo, hi):
    r = I.recip(I.interval(lo, hi))
    assert r.lo == -np.inf and r.hi == np.inf
    f = FB.recip(FB.interval(lo, hi))
    assert f.lo == arb.neg_inf() and f.hi == arb.pos_inf()


@pytest.mark.parametrize("lo,hi", [(-TINY, 1.0), (-1.0, TINY), (-1.0, 2.0), (-2.0, 1.0)])
def test_square_of_a_straddling_enclosure_starts_at_zero(lo, hi):
    """x^2 over an interval containing 0 has minimum 0 (not min(lo^2, hi^2) > 0)."""
    r = I.sqr(I.interval(lo, hi))
    f = FB.sqr(FB.interval(lo, hi))
    assert r.lo == 0.0 and f.lo == 0
    assert r.hi >= max(lo * lo, hi * hi) and f.hi >= max(lo * lo, hi * hi)


def test_log1p_refuses_at_minus_one_exactly():
    """The domain test is strict: an interval touching -1 gets the whole line."""
    r = I.log1p(I.interval(-1.0, 0.5))
    assert r.lo == -np.inf and r.hi == np.inf
    r = I.log1p(I.interval(np.nextafter(-1.0, 0.0), 0.5))
    assert np.isfinite(r.lo)


# ------------------------------------------------- the flint layer's product by sign cases (exact ends)
_SIGNED = [(0.0, 0.0), (0.0, 1.5), (0.5, 2.0), (-1.5, 0.0), (-2.0, -0.25), (-0.75, 1.25), (-3.0, 0.5)]


def _exact_product_hull(a, b):
    from fractions import Fraction as Fr
    ps = [Fr(x) * Fr(y) for x in a for y in b]
    return min(ps), max(ps)


def test_fi_product_is_the_corner_hull_for_every_sign_pattern():
    """FI picks two corner products by the signs of the ends (four only when both straddle 0):
    every pattern (zero, positive, negative, straddling; ends at 0) must give exactly the hull
    of the four corner products (these corners are exact in binary64, so no rounding).  The
    wrong variant that reads a straddling factor as non-negative (lo = a c, hi = b d) is
    shown to miss the hull."""
    from fractions import Fraction as Fr
    for a in _SIGNED:
        for b in _SIGNED:
            r = _fi(*a) * _fi(*b)
            lo, hi = _exact_product_hull(a, b)
            assert Fr(float(r.lo)) == lo and Fr(float(r.hi)) == hi, (a, b, r)
    a, b = (-0.75, 1.25), (0.5, 2.0)
    wrong_lo = Fr(a[0]) * Fr(b[0])                 # -0.375, but -0.75 * 2 = -1.5 is a product too
    assert wrong_lo > _exact_product_hull(a, b)[0]


@pytest.mark.parametrize("s", [3.0, -2.5, 0.0, -0.0, 7])
def test_fi_scalar_product_and_quotient(s):
    """x * s and x / s for an exact scalar order their ends by the sign of s; the quotient by a
    negative scalar swaps them (the wrong order gives lo > hi, caught here)."""
    from fractions import Fraction as Fr
    x = _fi(-0.5, 1.5)
    r = x * s
    assert (Fr(float(r.lo)), Fr(float(r.hi))) == _exact_product_hull((-0.5, 1.5), (s, s))
    if s != 0:
        q = x / s
        ends = sorted([Fr(-0.5) / Fr(s), Fr(3, 2) / Fr(s)])
        assert bool(q.lo <= float(ends[0])) and bool(q.hi >= float(ends[1]))
        assert bool(q.lo <= q.hi) and Fr(float(q.hi)) - Fr(float(q.lo)) <= (ends[1] - ends[0]) * (1 + Fr(1, 2**50))


def test_fi_trig_extremum_just_inside_and_outside():
    """The flint layer's cos/sin locate the extrema in floats with a margin: an interval whose end
    is one ulp past an extremum reaches +-1; one ending 1e-6 short of it does not (the margin,
    about 1e-12 turns, is far below; a margin of 1e-6 turns would fail here)."""
    half_pi = math.pi / 2
    r = FB.sin(FB.interval(half_pi - 0.5, np.nextafter(half_pi, 4.0)))
    assert r.hi == 1
    r = FB.sin(FB.interval(half_pi - 0.5, half_pi - 1e-6))
    assert bool(r.hi < 1)
    r = FB.cos(FB.interval(-2.0, -math.pi + 1e-6))
    assert bool(r.lo > -1)
    r = FB.cos(FB.interval(-4.0, -math.pi + 1e-6))
    assert r.lo == -1


# ------------------------------------------------------- the checker's numpy backend (arb values)
CHECKED = {"exp": I.CHECKED_NUMPY.exp, "sin": I.CHECKED_NUMPY.sin, "cos": I.CHECKED_NUMPY.cos,
           "log1p": I.CHECKED_NUMPY.log1p}


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_checked_numpy_contains_flint_ball_and_is_tight(name):
    """The checker's batched backend encloses the 200-bit value at every sampled point, and at a
    point interval its width is at most 4 ulps of the value (arb's 53-bit ball, one ulp outwards on
    each side) -- not the 2^-44 relative slack of the numpy layer's assumed libm bound."""
    _, _, f_arb, kw = UNARY[name]
    rng = np.random.default_rng(12)
    lo, hi = _random_intervals(rng, 200, **kw)
    r = CHECKED[name](I.interval(lo, hi))
    pts = _samples(lo, hi)
    for i in range(len(lo)):
        for x in pts[i]:
            assert _contains(r.lo[i], r.hi[i], _ref(f_arb, x)), (name, lo[i], hi[i], x)
    x = rng.uniform(-0.9, 3.0, 500)
    p = CHECKED[name](I.point(x))
    y = np.maximum(np.abs(p.lo), np.abs(p.hi))
    ok = np.isfinite(y) & (y > 1e-300)
    assert np.all(p.hi[ok] - p.lo[ok] <= 4 * np.spacing(y[ok])), name


def test_checked_numpy_does_not_rest_on_libm(monkeypatch):
    """A libm whose cos is off by 1e-9 (far beyond the assumed 2^-44 relative bound) makes the numpy
    layer's enclosure miss the true value; the checker's backend takes its values from arb and
    still encloses it."""
    x = np.array([0.3, 1.1, 2.5])
    good = np.cos
    monkeypatch.setattr(np, "cos", lambda a: good(a) + 1e-9)
    bad, checked = I.cos(I.point(x)), I.CHECKED_NUMPY.cos(I.point(x))
    monkeypatch.undo()
    for i, z in enumerate(x):
        ball = _ref(lambda t: t.cos(), z)
        assert not _contains(bad.lo[i], bad.hi[i], ball)
        assert _contains(checked.lo[i], checked.hi[i], ball)


def test_checked_numpy_special_values():
    """exp of -inf is exactly 0, exp overflowing in binary64 gives an upper end of inf (never a
    finite claim), NaN gives the whole line, and cos of a huge or infinite interval is [-1, 1]."""
    e = I.CHECKED_NUMPY.exp(I.interval(np.array([-np.inf, 700.0, np.nan]), np.array([-np.inf, 800.0, 1.0])))
    assert e.lo[0] == 0.0 and e.hi[0] <= 5e-324
    assert e.lo[1] > 1e304 and e.hi[1] == np.inf
    assert e.lo[2] == -np.inf and e.hi[2] == np.inf
    c = I.CHECKED_NUMPY.cos(I.interval(np.array([1e7, -np.inf]), np.array([1e7 + 1, 0.0])))
    assert np.all(c.lo == -1.0) and np.all(c.hi == 1.0)
