"""mathvalue: what a mathparse tree is worth, and whether two trees are worth the same at sample points.

    exact(tree)              -> Fraction | None   rational constants only (1/2 + 0.25, 2^{10}, \\sqrt{9/4}, 5!, 10%)
    approx(tree, env)        -> complex           floats at a point (symbols from env); precise=True: 40-digit mpmath
    sampled_equal(a, b, tol) -> True | False | None   step 3 of the judge: a and b at N_POINTS random points
    to_sympy(tree)           -> sympy expression  built node by node (no sympify); used only in symcheck's worker

Safety: exact() refuses any integer beyond MAX_BITS bits *before* computing it (TooBig), so 9^{9^{9^{9}}} costs
microseconds; approx() is floats (constant time per node) or mpmath with magnitudes capped by MAX_MAG. Both are
therefore bounded by the tree size, which mathparse caps.

Sampling: symbols are drawn from [0.5, 2.5] (fixed seed: a pair always gets the same verdict), in floats, or in
40-digit mpmath where floats cancel or overflow. A relative gap above DIFFERENT (and tol) at a point, or a point
where only one side is defined, means different; agreement within tol at >= 2 points means equal; else None.
Conventions: symbols are positive, as in sympy, so sqrt(x^2) = x on both paths; odd roots of negative reals are
real (\\sqrt[3]{-8} = -2); log is natural log. Also here: children / symbols / has (tree walking) and
expand_pm (a +- b -> [a + b, a - b]).
"""
import cmath
import math
import random
from fractions import Fraction
from itertools import product

from .mathparse import ParseError, TooBig

MAX_BITS = 8192        # any exact integer (numerator or denominator) beyond 2^8192 (~2466 digits) is TooBig
MAX_PM_VARIANTS = 16   # a +- b +- c ... expands to at most this many values
MAX_MAG = 2_000_000    # precise mode: no value beyond 2^MAX_MAG, no exp/trig/gamma of arguments beyond 10^6
N_POINTS = 5           # sampling: points per comparison
DIFFERENT = 1e-6       # sampling: a relative gap above this (and above the tolerance) at one point means "not equal"


def children(node):
    k = node[0]
    if k in ('add', 'mul'):
        return node[1]
    if k in ('neg', 'pct', 'deg'):
        return (node[1],)
    if k in ('div', 'pow'):
        return (node[1], node[2])
    if k == 'func':
        return node[2]
    if k == 'pm':
        return tuple(x for x in node[1:] if x is not None)
    return ()


def symbols(node):
    if node[0] == 'sym':
        return {node[1]}
    out = set()
    for c in children(node):
        out |= symbols(c)
    return out


def has(node, pred):
    return pred(node) or any(has(c, pred) for c in children(node))


def _check(x):
    if max(x.numerator.bit_length(), x.denominator.bit_length()) > MAX_BITS:
        raise TooBig('number too large')
    return x


def _iroot(n, k):
    """Exact integer k-th root of n >= 0, or None."""
    if n < 2:
        return n
    r = 1 << ((n.bit_length() + k - 1) // k)              # an upper bound: Newton then decreases to the root
    for _ in range(2000):                                  # Newton's method on integers
        nr = ((k - 1) * r + n // r ** (k - 1)) // k
        if nr >= r:
            break
        r = nr
    for c in (r - 1, r, r + 1):
        if c >= 0 and c ** k == n:
            return c
    return None


def _rpow(b, e):
    if e.denominator == 1:
        n = e.numerator
        if b == 0 and n < 0:
            return None
        if b in (0, 1) or n == 0:
            return Fraction(1) if n == 0 else b
        if b == -1:
            return Fraction(-1) ** (n % 2)
        if max(b.numerator.bit_length(), b.denominator.bit_length()) * abs(n) > MAX_BITS + 64:
            raise TooBig('power too large')
        return _check(b ** n)
    q = e.denominator
    if q > 64:
        return None
    if b < 0:                                              # real odd roots: (-8)^(2/3) = 4, (-8)^(1/3) = -2
        r = None if q % 2 == 0 else _rpow(-b, e)
        return None if r is None else (-r if e.numerator % 2 else r)
    rn, rd = _iroot(b.numerator, q), _iroot(b.denominator, q)
    if rn is None or rd is None:
        return None                                        # irrational: sqrt(2)
    return _rpow(Fraction(rn, rd), Fraction(e.numerator))


def exact(node):
    """Exact rational value of a scalar tree, or None (symbols, irrational values, undefined).

    Every constant sub-tree is evaluated (even beside a symbol), so a huge power anywhere raises TooBig."""
    k = node[0]
    if k == 'num':
        return node[1]
    if k == 'base':
        try:
            return Fraction(int(node[1], node[2]))
        except ValueError:
            return None
    vals = [exact(c) for c in children(node)]
    if k in ('sym', 'const', 'text', 'pm') or any(v is None for v in vals):
        return None
    if k == 'add':
        return _check(sum(vals, Fraction(0)))
    if k == 'mul':
        out = Fraction(1)
        for v in vals:
            out = _check(out * v)
        return out
    if k == 'neg':
        return -vals[0]
    if k == 'div':
        return None if vals[1] == 0 else _check(vals[0] / vals[1])
    if k == 'pow':
        return _rpow(vals[0], vals[1])
    if k == 'pct':
        return vals[0] / 100
    if k == 'deg':
        return vals[0]
    if k == 'func':
        name, x = node[1], vals[0]
        if name == 'sqrt':
            return _rpow(x, Fraction(1, 2))
        if name == 'root':
            return _rpow(x, 1 / vals[1]) if vals[1] != 0 and vals[1].denominator == 1 else None
        if name == 'abs':
            return abs(x)
        if name in ('floor', 'ceil'):
            return Fraction(math.floor(x) if name == 'floor' else math.ceil(x))
        if name == 'fact' and x.denominator == 1 and x >= 0:
            if x > 1000:
                raise TooBig('factorial too large')
            return _check(Fraction(math.factorial(int(x))))
        if name == 'binom' and x.denominator == 1 and vals[1].denominator == 1 and x >= 0:
            if x > 5000:
                raise TooBig('binomial too large')
            return Fraction(math.comb(int(x), int(vals[1]))) if vals[1] >= 0 else Fraction(0)
    return None


class Lossy(Exception):
    """Float evaluation lost too many digits (an addition cancelled) or overflowed: retry with precise=True."""


_MP = None


def _mpctx():
    global _MP
    if _MP is None:
        import mpmath          # ships with sympy; a private context, never mutated, so threads can share it
        ctx = mpmath.MPContext()
        ctx.dps = 40
        _MP = ctx
    return _MP


def _real(z, M):
    if abs(z.imag) > 1e-12 * max(1.0, abs(z.real)):
        raise ValueError('real function of a complex number')
    return z.real


def _call(name, args, M):
    """Function value in float (M None) or mpmath (M) arithmetic."""
    x = args[0]
    if M is not None and name in ('exp', 'sinh', 'cosh', 'sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'fact',
                                  'binom') and abs(x) > 1e6:
        raise TooBig('argument too large')
    if name == 'log':
        base = (M.log(args[1]) if M else cmath.log(args[1])) if len(args) > 1 else 1
        return (M.log(x) if M else cmath.log(x)) / base
    if name in ('abs', 'floor', 'ceil', 'fact', 'binom'):
        if name == 'abs':
            return abs(x)
        r = _real(x, M)
        if name == 'floor':
            return M.floor(r) if M else math.floor(r)
        if name == 'ceil':
            return M.ceil(r) if M else math.ceil(r)
        gamma = M.gamma if M else math.gamma
        if name == 'fact':
            return gamma(r + 1)
        k = _real(args[1], M)
        return gamma(r + 1) / (gamma(k + 1) * gamma(r - k + 1))
    if M is not None:
        f = {'arcsin': M.asin, 'arccos': M.acos, 'arctan': M.atan, 'arccot': M.acot, 'ln': M.log}.get(name)
        return (f or getattr(M, name))(x)
    if name in ('cot', 'sec', 'csc', 'arccot'):
        return 1 / {'cot': cmath.tan, 'sec': cmath.cos, 'csc': cmath.sin}[name](x) if name != 'arccot' \
            else cmath.atan(1 / x)
    return {'arcsin': cmath.asin, 'arccos': cmath.acos, 'arctan': cmath.atan, 'ln': cmath.log}.get(
        name, getattr(cmath, name, None))(x)


def approx(node, env, precise=False):
    """Complex value of a scalar tree, symbols taken from env (name -> complex).

    Floats by default: fast, but raises Lossy when an addition cancels more than 7 digits or a value overflows.
    precise=True uses mpmath at 40 digits: no overflow, survives cancellation, ~100x slower; magnitudes are
    capped (MAX_MAG) so that exp(exp(10^{100})) raises TooBig instead of eating the machine.
    Undefined values (1/0, log 0, floor of a complex number) raise ArithmeticError or ValueError."""
    M = _mpctx() if precise else None
    k = node[0]
    if k == 'num':
        v = (M.mpf(node[1].numerator) / node[1].denominator) if M else complex(float(node[1]))
    elif k == 'sym':
        v = M.mpc(env[node[1]]) if M else env[node[1]]
    elif k == 'const':
        if node[1] == 'inf':
            raise ValueError('infinity has no numeric value')
        v = {'pi': M.pi, 'e': M.e, 'i': M.mpc(0, 1)}[node[1]] if M else \
            {'pi': complex(math.pi), 'e': complex(math.e), 'i': 1j}[node[1]]
    elif k == 'base':
        v = approx(('num', exact(node), False), env, precise)
    elif k == 'add':
        terms = [approx(c, env, precise) for c in node[1]]
        v = sum(terms)
        big = max(abs(t) for t in terms)
        if M is None and big > 0 and abs(v) < 1e-7 * big:
            raise Lossy('cancellation')
    elif k == 'mul':
        v = 1
        for c in node[1]:
            v = v * approx(c, env, precise)
    elif k == 'neg':
        v = -approx(node[1], env, precise)
    elif k == 'div':
        v = approx(node[1], env, precise) / approx(node[2], env, precise)
    elif k == 'pct':
        v = approx(node[1], env, precise) / 100
    elif k == 'deg':
        v = approx(node[1], env, precise)
    elif k == 'pow':
        b, e = approx(node[1], env, precise), approx(node[2], env, precise)
        q = exact(node[2])
        if b.imag == 0 and b.real < 0 and q is not None and q.denominator % 2 == 1:
            mag = abs(b.real) ** (M.mpf(q.numerator) / q.denominator if M else float(q))
            v = -mag if q.numerator % 2 else mag                 # real odd roots: cbrt(-8) = -2
        elif b == 0:
            if e.real <= 0:
                raise ZeroDivisionError('0 to a non-positive power')
            v = 0 * b
        elif M is None:
            v = complex(b.real ** e.real) if b.imag == 0 and e.imag == 0 and b.real > 0 else b ** e
        else:
            if abs(e) * (abs(M.log(abs(b))) + 4) > MAX_MAG:
                raise TooBig('power too large')
            v = M.power(b, e)
    elif k == 'func':
        args = [approx(a, env, precise) for a in node[2]]
        if node[1] == 'root':
            v = approx(('pow', node[2][0], ('div', ('num', Fraction(1), False), node[2][1])), env, precise)
        elif node[1] == 'sqrt':
            v = approx(('pow', node[2][0], ('num', Fraction(1, 2), False)), env, precise) \
                if args[0].imag == 0 and args[0].real >= 0 else (M.sqrt(args[0]) if M else cmath.sqrt(args[0]))
        else:
            v = _call(node[1], args, M)
    else:
        raise ValueError(f'{k} has no numeric value')
    if M is None:
        v = complex(v)
        if not (math.isfinite(v.real) and math.isfinite(v.imag)):
            raise Lossy('overflow')
    else:
        v = M.mpc(v)
        if not M.isfinite(v) or (v != 0 and M.mag(v) > MAX_MAG):
            raise TooBig('value too large')
    return v


def expand_pm(node):
    """All values of a tree with +- in it: 1 \\pm \\sqrt{2} -> [1 + sqrt2, 1 - sqrt2]."""
    if not has(node, lambda n: n[0] == 'pm'):
        return [node]
    k = node[0]
    if k == 'pm':
        a = expand_pm(node[1]) if node[1] is not None else [None]
        b = expand_pm(node[2])
        out = []
        for x, y in product(a, b):
            out += [y, ('neg', y)] if x is None else [('add', (x, y)), ('add', (x, ('neg', y)))]
    else:
        kids = [expand_pm(c) for c in children(node)]
        out = []
        for combo in product(*kids):
            if len(out) > MAX_PM_VARIANTS:
                break
            if k in ('add', 'mul'):
                out.append((k, tuple(combo)))
            elif k == 'func':
                out.append((k, node[1], tuple(combo)))
            else:
                out.append((k,) + tuple(combo))
    if len(out) > MAX_PM_VARIANTS:
        raise ParseError('too many +- signs')
    return out


def to_sympy(node):
    """Build the sympy expression of a scalar tree directly (no sympify, no eval). Symbols are positive,
    matching the judge's numeric sampling on positive values."""
    import sympy as sp
    k = node[0]
    if k == 'num':
        return sp.Rational(node[1].numerator, node[1].denominator)
    if k == 'base':
        return sp.Integer(int(exact(node)))
    if k == 'sym':
        return sp.Symbol(node[1], positive=True)
    if k == 'const':
        return {'pi': sp.pi, 'e': sp.E, 'i': sp.I, 'inf': sp.oo}[node[1]]
    args = [to_sympy(c) for c in children(node)]
    if k == 'add':
        return sp.Add(*args)
    if k == 'mul':
        return sp.Mul(*args)
    if k == 'neg':
        return -args[0]
    if k == 'div':
        return args[0] / args[1]
    if k == 'pow':
        return sp.Pow(args[0], args[1])
    if k == 'pct':
        return args[0] / 100
    if k == 'deg':
        return args[0]
    if k == 'func':
        table = {'sin': sp.sin, 'cos': sp.cos, 'tan': sp.tan, 'cot': sp.cot, 'sec': sp.sec, 'csc': sp.csc,
                 'arcsin': sp.asin, 'arccos': sp.acos, 'arctan': sp.atan, 'arccot': sp.acot, 'sinh': sp.sinh,
                 'cosh': sp.cosh, 'tanh': sp.tanh, 'exp': sp.exp, 'ln': sp.log, 'log': sp.log,
                 'sqrt': sp.sqrt, 'root': sp.root, 'abs': sp.Abs, 'floor': sp.floor, 'ceil': sp.ceiling,
                 'fact': sp.factorial, 'binom': sp.binomial}
        return table[node[1]](*args)
    raise ValueError(f'{k} is not a scalar')


# ----------------------------------------------------------------------------------------------------------
# Sampling: step 3 of the judge (mathjudge.py). Symbols are drawn from [0.5, 2.5], as sympy's are positive.
def _points(a, b):
    names = sorted(symbols(a) | symbols(b))
    if len(names) > 12:
        return []
    rng = random.Random(20240917)                          # deterministic: the same pair always gets one verdict
    return [{s: complex(rng.uniform(0.5, 2.5)) for s in names} for _ in range(N_POINTS if names else 1)]


def _value_at(node, env, precise):
    """Value at one point, or None where the tree is undefined (a domain error, 1/0)."""
    try:
        return approx(node, env, precise)
    except (Lossy, TooBig):
        raise                  # Lossy: retry precisely; TooBig: beyond 2^MAX_MAG, the answer is not judged
    except OverflowError:
        raise TooBig('overflow') if precise else Lossy('overflow')
    except (ArithmeticError, ValueError, TypeError, KeyError):
        return None


def _values_at(a, b, env):
    """Both values at one point and the size of zero: floats, or 40-digit mpmath when floats cancel or overflow."""
    try:
        return _value_at(a, env, False), _value_at(b, env, False), 1e-12
    except Lossy:
        return _value_at(a, env, True), _value_at(b, env, True), 1e-30


def _gap(u, v):
    return abs(u - v) / max(abs(u), abs(v), 1e-300)


def sampled_equal(a, b, tol):
    """Are a and b equal (within relative tol) at every sample point? None when sampling cannot tell."""
    points, ok, unsure = _points(a, b), 0, False
    for env in points:
        va, vb, zero = _values_at(a, b, env)
        if va is None and vb is None:
            continue
        if va is None or vb is None:                       # defined on one side only
            return False
        if abs(va - vb) <= zero or _gap(va, vb) <= tol:
            ok += 1
        elif _gap(va, vb) > max(DIFFERENT, tol):
            return False
        else:
            unsure = True
    if unsure or ok < min(2, len(points)) or not points:
        return None
    return True


def sampled_ratio(da, db, sign, tol):
    """Is da / db one nonzero constant (positive, for sign 'pos') at every sample point? None: cannot tell."""
    ratios = []
    for env in _points(da, db):
        va, vb, zero = _values_at(da, db, env)
        if va is None and vb is None:
            continue
        if va is None or vb is None:
            return False
        za, zb = abs(va) <= zero, abs(vb) <= zero
        if za != zb:
            return False
        if not za:
            ratios.append(va / vb)
    if len(ratios) < 2:
        return None
    if any(_gap(r, ratios[0]) > DIFFERENT for r in ratios):
        return False
    r = ratios[0]
    if sign == 'pos' and not (r.real > 0 and abs(r.imag) <= 1e-9 * abs(r)):
        return False
    return True if all(_gap(x, r) <= tol for x in ratios) else None
