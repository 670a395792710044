"""mathjudge: is a model's final answer the gold answer?  Every RL reward and every evaluation score comes from here.

    grade(completion, gold, timeout)   -> GradeResult(answer, correct, timed_out); .status is 'correct', 'wrong',
                                          'timeout' or 'no_answer' (what training and evaluation loops count)
    equiv_status(pred, gold, timeout)  -> 'correct' | 'wrong' | 'timeout'    never raises on an answer
    is_equiv(pred, gold, timeout)      -> bool                               equiv_status(...) == 'correct'
    grade_choice(completion, gold)     -> GradeResult                        multiple choice: the chosen label

    python -m judge '\\frac{1}{2}' 0.5              # the verdict on two answers; no arguments: a short demo

Where the answer is in a text: mathextract.py. How an answer is read (e, i, juxtaposition, thousands, units, ...):
mathparse.py. The equivalence policy, symmetric in pred and gold ('~' means "judged equal"):
  case                   policy                                             examples
  formatting             $, \\left, \\right, spacing, \\dfrac, \\tfrac vanish   \\dfrac{1}{2} ~ \\frac12 ~ 1/2
  integers               thousands separators; leading zeros                7,425,000 ~ 7425000; 023 ~ 23
  fractions vs decimals  exact values (a decimal is the rational it reads)  \\frac{1}{2} ~ 0.5; 2/4 ~ 1/2
  decimal vs exact       within REL_TOL relative; exactly when the exact    0.0833333 ~ 1/12; 2.6667 ~ 8/3;
                         side is an integer                                 not 0.333 ~ 1/3, not 12.5 ~ 12
  decimal vs decimal     exactly: the digits are the answer                 0.50 ~ 0.5; not 16386.17 ~ 16386.16
  percent                x% equals x and x/100 (both marked: x vs x)        10% ~ 10 ~ 0.1; not 0.1 ~ 10
  degrees                x degrees equals x, and x*pi/180                   30^\\circ ~ 30 ~ \\frac{\\pi}{6}
  units, currency        trailing units, words and \\text dropped            5\\text{ cm}^2 ~ 5; \\$18.90 ~ 18.9;
                                                                            3 days per week ~ 3
  expressions            exact, else numeric sampling, else sympy (below)   2\\sqrt3 ~ \\sqrt{12}; x^2-1 ~ (x-1)(x+1)
  +- answers             a \\pm b is the unordered list a+b, a-b             1 \\pm \\sqrt2 ~ 1+\\sqrt2, 1-\\sqrt2
  lists, sets            unordered, repeats do not count; ',' 'and' 'or'    -2, 1 ~ 1 and -2 ~ \\{1, -2\\}; \\{5\\} ~ 5
                         ';' separate; one item equals itself alone         \\{1\\}\\cup\\{3\\} ~ \\{1,3\\}
  tuples, intervals      ordered; brackets must match (open/closed)         (1, 4.5) ~ (1, \\frac92); not (2,3] ~ (2,3)
  unions of intervals    unordered parts (not merged)                       (3,\\infty) \\cup (-\\infty,2)
  inequalities           one variable: the interval                         x > 5 ~ (5,\\infty); 0\\le x\\le 7 ~ [0,7]
  stated values          'name = value' is its value (x, f(x), a_1, AB,     x = 2 ~ 2; (p,q) = (3,2) ~ (3,2)
                         (p,q)); a chain a = b = c its last value; numbers  x = 5+5+1 = 11 ~ 11; x \\approx 11 ~ 11
                         on both sides: the right one; x \\approx v; x \\in S   1440 + 1200 = 2640 ~ 2640
  other equations        lhs - rhs equal up to a constant factor (> 0 for   2x+4y=3 ~ y=-x/2+3/4
                         inequalities)
  records                'x = 1, y = 2' matched by name, else by value      x = 1, y = 2 ~ y = 2, x = 1;
                         (in order against a tuple)                         x = 1, y = 2 ~ (1, 2)
  matrices, vectors      same shape, elementwise; a vector = a tuple        pmatrix ~ bmatrix ~ array; (1,2)
  base-b numbers         same digits and base; bare digits match too        2516_8 ~ 2516; not 2516_8 ~ 1358
  text answers           case, spaces, \\text and parentheses ignored        \\text{(C)} ~ C; \\text{Even} ~ even
  choice letters A-E     a letter equals a text that opens with it          C ~ C. x = 42 ~ (C) 42
  refused (wrong)        sums, integrals, limits, matrix arithmetic, times of day; numbers beyond
                         mathvalue.MAX_BITS (exact) or 2^MAX_MAG (numeric) -- unless both strings are the same
How equality is decided, stopping at the first verdict:
  1. the same canonical string (cleaned; spaces and \\text wrappers dropped)
  2. exact rational arithmetic (fractions.Fraction, sizes capped by mathvalue.MAX_BITS)
  3. numeric sampling (mathvalue.sampled_equal): values at a few points, equal within EXACT_TOL, or REL_TOL when
     exactly one side holds a decimal; a point where only one side is defined means different
  4. when sampling cannot tell: sympy's simplify(a - b) == 0, then a.equals(b), in symcheck's worker process
Time: `timeout` is CPU seconds for one check, this thread's (steps 1-3) plus the sympy worker's (step 4, start-up
not included), so a verdict does not depend on how busy the machine is. A check that uses them up is stopped and
reported as 'timeout' (GradeResult.timed_out) so it can be counted apart; it is still not correct: is_equiv
says False, a reward counts it 0 and an accuracy counts it as not right. A timeout that
is not a positive finite number (0, nan, inf) is refused with a ValueError.
Safety: nothing is eval'ed; parser caps (mathparse.MAX_CHARS, mathlex.MAX_TOKENS, MAX_DEPTH) bound steps 1-3.
"""
import math
import re
import time
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from . import mathparse as mp
from . import mathvalue as mv
from . import symcheck
from .mathextract import answer_text, extract_answer, extract_choice

DEFAULT_TIMEOUT = 5.0      # CPU seconds for one check (the in-process steps take ms; sympy may take more)
REL_TOL = 1e-4             # a decimal answer against an exact non-integer value
EXACT_TOL = 1e-9           # float noise allowed when both sides are exact expressions
GRADE_STATUSES = ('correct', 'wrong', 'timeout', 'no_answer')


# ----------------------------------------------------------------------------------------------------------
# The public API
@dataclass(frozen=True)
class GradeResult:
    answer: str | None       # the extracted final answer (None: the text has no answer)
    correct: bool
    timed_out: bool = False  # the check ran out of time: correct is False, but the answer was not judged wrong

    @property
    def status(self):
        """One of GRADE_STATUSES."""
        if self.answer is None:
            return 'no_answer'
        return 'correct' if self.correct else 'timeout' if self.timed_out else 'wrong'


def grade(completion_text, gold, timeout=DEFAULT_TIMEOUT):
    """Extract the model's answer and judge it against gold (a bare answer, or a solution with \\boxed / ####)."""
    if isinstance(gold, (int, float, Fraction)) and not isinstance(gold, bool):
        gold = str(gold)
    if not isinstance(gold, str) or not gold.strip():
        raise ValueError(f'grade(): gold must be a non-empty answer string, got {gold!r}; '
                         'pass the dataset\'s answer field (or its solution text with a \\boxed answer)')
    _check_timeout(timeout)    # refused whether or not the text has an answer: a bad argument is never hidden
    answer = extract_answer(completion_text) if isinstance(completion_text, str) else None
    if answer is None:
        return GradeResult(None, False)
    status = equiv_status(answer, gold, timeout)
    return GradeResult(answer, status == 'correct', timed_out=status == 'timeout')


def grade_choice(completion_text, gold, labels=('A', 'B', 'C', 'D')):
    """Multiple choice: the chosen label (extract_choice) against the gold label."""
    labels = [str(x).strip() for x in labels]
    if str(gold).strip() not in labels:
        raise ValueError(f'grade_choice(): gold label {gold!r} is not one of the labels {labels}; pass the '
                         'question\'s own labels (ARC has rows labelled 1-4, MMLU gives an index: map it to A-D)')
    answer = extract_choice(completion_text, labels) if isinstance(completion_text, str) else None
    return GradeResult(answer, answer == str(gold).strip())


def equiv_status(pred, gold, timeout=DEFAULT_TIMEOUT):
    """'correct' when pred and gold are the same answer under the policy above, 'wrong' when they are not or
    either cannot be read, 'timeout' when the check used up its `timeout` CPU seconds. Never raises on any
    answer; a `timeout` that is not a positive finite number is a ValueError."""
    _check_timeout(timeout)
    if pred is None or gold is None:
        return 'wrong'
    try:
        return 'correct' if _equiv(answer_text(pred), answer_text(gold), _Budget(timeout)) else 'wrong'
    except _OutOfTime:
        return 'timeout'
    except Exception:          # ParseError, TooBig, RecursionError, ...: an answer that cannot be judged is wrong
        return 'wrong'


def is_equiv(pred, gold, timeout=DEFAULT_TIMEOUT):
    """True when pred and gold are the same answer (equiv_status tells a time-out from a wrong answer)."""
    return equiv_status(pred, gold, timeout) == 'correct'


def _check_timeout(timeout):
    """A budget must be a positive finite number of seconds: nan compares False with everything, so a nan budget
    never ran out here yet broke the sympy worker's timer, and turned right answers wrong without a word."""
    try:
        ok = not isinstance(timeout, bool) and math.isfinite(timeout) and timeout > 0
    except TypeError:          # None, a string
        ok = False
    if not ok:
        raise ValueError(f'timeout must be a positive finite number of CPU seconds, got {timeout!r} '
                         f'(the default is {DEFAULT_TIMEOUT})')


class _OutOfTime(Exception):
    pass


class _Budget:
    """The CPU seconds one check may still spend: this thread's own work plus the sympy worker's."""

    def __init__(self, seconds):
        self.end = time.thread_time() + seconds

    def check(self):
        if time.thread_time() >= self.end:
            raise _OutOfTime()

    def symbolic(self, kind, a, b, extra):
        """Step 4 in the sympy worker, with the CPU seconds left; they are charged with what the worker used."""
        verdict, cpu = symcheck.ask((kind, a, b, extra), self.end - time.thread_time())
        self.end -= cpu
        if verdict == symcheck.TIMEOUT:
            raise _OutOfTime()
        return verdict


# ----------------------------------------------------------------------------------------------------------
# Text-level steps: the same spelling, choice letters, words
_SCALAR = {'num', 'sym', 'const', 'add', 'mul', 'neg', 'div', 'pow', 'func', 'pct', 'deg', 'base', 'pm'}
_INF = ('const', 'inf')
_WRAPPER = re.compile(r'\\(?:text|textbf|textit|textnormal|textrm|mbox|mathrm|emph)\s*\{([^{}]*)\}')


def _equiv(p, g, budget):
    if not p or not g:
        return False
    if _canonical(p) == _canonical(g):                    # step 1 (row: formatting)
        return True
    for x, y in ((p, g), (g, p)):                          # row: choice letters ('C' vs 'C. x = 42', '(C) 42')
        letter = re.fullmatch(r'\s*\(?([A-E])\)?\s*', _WRAPPER.sub(r'\1', y))
        if letter and re.match(rf'\s*\(?{letter.group(1)}(?:\)|\.|:)', _WRAPPER.sub(r'\1', x)):
            return True
    if _is_text_answer(p) or _is_text_answer(g):          # row: text answers
        return bool(_looks_like_words(p) and _looks_like_words(g)) and _text_key(p) == _text_key(g) != ''
    a, b = _parse(p), _parse(g)
    if a[0] == 'error' or b[0] == 'error':
        return False
    return _same(a, b, budget)


def _canonical(s):
    """Spelling-level normal form: cleaned, text wrappers unwrapped, spaces only between two word characters."""
    s = _WRAPPER.sub(r'\1', mp.clean(s))
    s = re.sub(r'\s+', ' ', s)
    return re.sub(r' (?=\W)|(?<=\W) ', '', s).strip()


def _looks_like_words(s):
    """Letters, spaces and a little punctuation, maybe in parentheses ('C', '(C)', 'even')."""
    return re.fullmatch(r"\(?[A-Za-z][A-Za-z .,'\-]*\)?", _WRAPPER.sub(r'\1', s).replace('$', '').strip())


def _is_text_answer(s):
    """A words-only answer (\\text{Evelyn}, even, (C)): compared as text, not as a product of symbols."""
    if not _looks_like_words(s):
        return False
    inner = _WRAPPER.sub(r'\1', s).replace('$', '').strip()
    if inner.lower() in mp.INFINITY_WORDS:               # 'inf', \text{infinity}: a value, equal to \infty
        return False
    return bool(_WRAPPER.search(s)) or re.fullmatch(r'\([A-Za-z]\)', inner) is not None \
        or any(len(w) >= 3 for w in re.findall(r'[A-Za-z]+', inner))


def _text_key(s):
    return re.sub(r'[^a-z0-9]', '', _WRAPPER.sub(r'\1', s).lower())


@lru_cache(maxsize=8192)
def _parse(s):
    try:
        return mp.parse(mp.clean(s))
    except (mp.ParseError, RecursionError, ValueError) as e:
        return ('error', str(e))


# ----------------------------------------------------------------------------------------------------------
# Tree-level steps: the equivalence cascade over the kinds of answer
def _same(a, b, budget):
    budget.check()
    ka, kb = a[0], b[0]
    if ka == 'rel' or kb == 'rel':                         # rows: stated values, inequalities, other equations
        return _same_relation(a, b, budget)
    if ka in ('text', 'ellipsis') or kb in ('text', 'ellipsis'):
        return a == b                                      # row: text answers (words inside a formula); '...'
    if ka == 'matrix' or kb == 'matrix':                   # row: matrices, vectors
        return _same_matrix(a, b, budget)
    if ka == 'union' or kb == 'union':                     # row: unions of intervals
        pa, pb = a[1] if ka == 'union' else (a,), b[1] if kb == 'union' else (b,)
        if all(p[0] == 'set' for p in pa + pb):          # \{1,2\} \cup \{3\} = \{1,2,3\}
            return _same_set([x for p in pa for x in p[1]], [x for p in pb for x in p[1]], budget)
        return _same_set(pa, pb, budget)
    if ka == 'ratio' or kb == 'ratio':                     # 11:21, in order
        return ka == kb and _same_sequence(a[1], b[1], budget)
    if ka == 'seq' and kb == 'seq':                        # row: tuples, intervals
        return a[1:3] == b[1:3] and _same_sequence(a[3], b[3], budget)
    if {ka, kb} == {'list', 'seq'}:                        # rows: tuples, records; '3, 2' ~ (3, 2), in order
        s, l = (a, b) if ka == 'seq' else (b, a)
        return s[1:3] == ('(', ')') and _same_sequence(s[3], _elements(l), budget)
    ra, rb = _assignments(a), _assignments(b)
    if ra and rb and ra.keys() == rb.keys():               # row: records, matched by name
        return all(_same(ra[k], rb[k], budget) for k in ra)
    xa, xb = _elements(a), _elements(b)
    if xa is not None or xb is not None:                   # rows: lists, sets; +- answers; records by value
        if ka == 'seq' or kb == 'seq':
            return False
        return _same_set(xa if xa is not None else [a], xb if xb is not None else [b], budget)
    if ka in _SCALAR and kb in _SCALAR:                    # rows: numbers, percent, degrees, bases, expressions
        return _same_scalar(a, b, budget)
    return False


def _same_sequence(xs, ys, budget):
    """In order, item by item."""
    return len(xs) == len(ys) and all(_same(x, y, budget) for x, y in zip(xs, ys))


def _same_set(xs, ys, budget):
    """Unordered, as sets: every element on each side equals some element on the other (repeats do not count)."""
    return all(any(_same(x, y, budget) for y in ys) for x in xs) and \
        all(any(_same(x, y, budget) for x in xs) for y in ys)


def _elements(node):
    """The elements of a list, a set or a +- value (assignments read as their values); None for other nodes."""
    if node[0] in ('list', 'set'):
        raw = node[1]
    elif node[0] in _SCALAR and mv.has(node, lambda n: n[0] == 'pm'):
        raw = (node,)
    else:
        return None
    out = []
    for x in raw:
        v = _stated_value(x) if x[0] == 'rel' else None
        x = v if v is not None else x
        out.extend(mv.expand_pm(x) if x[0] in _SCALAR else [x])
    return out


def _assignments(node):
    """{name: value} for 'x = 1, y = 2' (every item assigns a different plain name), else None."""
    if node[0] != 'list':
        return None
    out = {}
    for it in node[1]:
        if it[0] != 'rel' or it[1] != ('=',) or it[2][0][0] != 'sym' or it[2][0][1] in out:
            return None
        out[it[2][0][1]] = it[2][1]
    return out


def _is_name(n):
    """Something an answer names on the left of '=': x, a_1, f(x), AB, NO/BO, (p, q), \\text{Area}."""
    k = n[0]
    if k in ('sym', 'text'):
        return True
    if k == 'mul':                                         # f(x), p(x), AB: a name times names
        return n[1][0][0] == 'sym' and not mv.has(n, lambda x: x[0] == 'num')
    if k == 'div':
        return _is_name(n[1]) and _is_name(n[2])
    if k in ('seq', 'ratio'):
        return all(_is_name(x) for x in (n[3] if k == 'seq' else n[1]))
    return False


def _is_constant(n):
    """A number or arithmetic on numbers: 2640, 1440 + 1200, 2\\pi."""
    return n[0] in _SCALAR and not mv.symbols(n)


def _stated_value(r):
    """The value a relation states ('x = 2' -> 2, 'x = 1+1 = 2' -> 2, '1440 + 1200 = 2640' -> 2640,
    'x \\in S' -> S, 'x \\approx 11' -> 11), or None ('2x + 4y = 3' is an equation, not a value)."""
    ops, xs = r[1], r[2]
    if 'approx' in ops:
        j = ops.index('approx')
        if any(o != '=' for o in ops[:j]):
            return None
        return xs[1] if j == 0 and _is_name(xs[0]) else xs[j]
    if all(o == '=' for o in ops):
        if len(xs) >= 3:                                   # a chain: its last value
            return xs[-1]
        if _is_name(xs[0]) or (_is_constant(xs[0]) and _is_constant(xs[1])):
            return xs[1]
        return None
    if ops == ('in',):
        return xs[1]
    return None


_FLIP = {'<': '>', '>': '<', 'le': 'ge', 'ge': 'le'}


def _interval(r):
    """A one-variable inequality as an interval: x > 5 -> (5, inf); -2 <= x <= 7 -> [-2, 7]."""
    ops, xs = r[1], r[2]
    if not all(o in _FLIP for o in ops) or not all(x[0] in _SCALAR for x in xs):
        return None
    if all(o in ('>', 'ge') for o in ops):                 # write it with < and <=
        ops, xs = tuple(_FLIP[o] for o in reversed(ops)), tuple(reversed(xs))
    if len(ops) == 1:
        lhs, op, rhs = xs[0], ops[0], xs[1]
        if not _is_name(lhs):
            lhs, rhs, op = rhs, lhs, _FLIP[op]
        if not _is_name(lhs) or mv.symbols(rhs):
            return None
        if op in ('<', 'le'):
            return ('seq', '(', ')' if op == '<' else ']', (('neg', _INF), rhs))
        return ('seq', '(' if op == '>' else '[', ')', (rhs, _INF))
    if len(ops) == 2 and all(o in ('<', 'le') for o in ops) and _is_name(xs[1]) \
            and not mv.symbols(xs[0]) and not mv.symbols(xs[2]):
        return ('seq', '(' if ops[0] == '<' else '[', ')' if ops[1] == '<' else ']', (xs[0], xs[2]))
    return None


def _same_relation(a, b, budget):
    """At least one side is a relation (=, <, \\in, \\approx, ...)."""
    if a[0] == b[0] == 'rel':
        va, vb = _stated_value(a), _stated_value(b)
        if va is not None and vb is not None:              # row: stated values
            return _same(va, vb, budget)
        ia = _interval(a) or (va if a[1] == ('in',) else None)
        ib = _interval(b) or (vb if b[1] == ('in',) else None)
        if ia is not None and ib is not None:              # row: inequalities (x \in S too)
            return _same(ia, ib, budget)
        return _same_equation(a, b, budget)                # row: other equations
    r, other = (a, b) if a[0] == 'rel' else (b, a)
    v = _stated_value(r) or _interval(r)                   # rows: stated values, inequalities
    return v is not None and _same(v, other, budget)


def _same_equation(a, b, budget):
    """Two equations or inequalities: the same relation, lhs - rhs equal up to a (positive, for <) constant."""
    def orient(r):
        if all(o in ('>', 'ge') for o in r[1]):
            return tuple(_FLIP[o] for o in reversed(r[1])), tuple(reversed(r[2]))
        return r[1], r[2]
    (oa, xa), (ob, xb) = orient(a), orient(b)
    if oa != ob:
        return False
    if len(xa) != 2 or not all(x[0] in _SCALAR for x in xa + xb) or oa[0] in ('in', 'approx'):
        return _same_sequence(xa, xb, budget)
    da, db = ('add', (xa[0], ('neg', xa[1]))), ('add', (xb[0], ('neg', xb[1])))
    if not mv.symbols(da) and not mv.symbols(db):
        return _same_sequence(xa, xb, budget)
    sign = 'pos' if oa[0] in ('<', 'le') else 'any'
    verdict = mv.sampled_ratio(da, db, sign, EXACT_TOL)
    return verdict if verdict is not None else budget.symbolic('ratio', da, db, sign)


def _same_matrix(a, b, budget):
    if a[0] == b[0] == 'matrix':
        ra, rb = a[1], b[1]
        return len(ra) == len(rb) and len(ra[0]) == len(rb[0]) and \
            all(_same_sequence(x, y, budget) for x, y in zip(ra, rb))
    m, o = (a, b) if a[0] == 'matrix' else (b, a)
    rows = m[1]
    if o[0] == 'seq' and o[1:3] in (('(', ')'), ('[', ']')) and (len(rows) == 1 or len(rows[0]) == 1):
        return _same_sequence([x for row in rows for x in row], o[3], budget)   # a vector written as a tuple
    return False


def _same_scalar(a, b, budget):
    """Numbers and expressions: the percent, degree and base-b marks first, then the value (_same_value)."""
    for kind in ('pct', 'deg'):                            # rows: percent, degrees
        if a[0] == kind and b[0] == kind:
            return _same_scalar(a[1], b[1], budget)
        if a[0] == kind or b[0] == kind:
            m, o = (a, b) if a[0] == kind else (b, a)
            if _same_scalar(m[1], o, budget):
                return True
            if kind == 'pct':                              # 10% also reads as 0.1
                return _same_value(('div', m[1], ('num', Fraction(100), False)), o, budget)
            if mv.has(o, lambda n: n == ('const', 'pi')):  # 30 degrees also reads as pi/6
                pi_over_180 = ('div', ('mul', (m[1], ('const', 'pi'))), ('num', Fraction(180), False))
                return _same_value(pi_over_180, o, budget)
            return False
    if a[0] == 'base' or b[0] == 'base':                   # row: base-b numbers
        return _same_base(a, b)
    return _same_value(a, b, budget)


def _same_base(a, b):
    def digits(n):
        if n[0] == 'base':
            return n[1].lstrip('0') or '0', n[2]
        if n[0] == 'num' and len(n) == 4:                  # an integer literal: digits in an unstated base
            return n[3].lstrip('0') or '0', None
        return None
    da, db = digits(a), digits(b)
    if da is None or db is None:
        return False
    return da[0] == db[0] and (da[1] is None or db[1] is None or da[1] == db[1])


def _inf_sign(n):
    if n == _INF:
        return 1
    if n[0] == 'neg':
        s = _inf_sign(n[1])
        return None if s is None else -s
    return None


def _same_value(a, b, budget):
    """Steps 2-4 on two scalar trees: exact rationals, else numeric sampling, else sympy."""
    if mv.has(a, lambda n: n == _INF) or mv.has(b, lambda n: n == _INF):
        return _inf_sign(a) is not None and _inf_sign(a) == _inf_sign(b)
    ea, eb = mv.exact(a), mv.exact(b)                      # TooBig propagates: the answer is wrong
    has_decimal = lambda n: mv.has(n, lambda x: x[0] == 'num' and x[2])
    da, db = has_decimal(a), has_decimal(b)
    if ea is not None and eb is not None:                  # step 2; rows: fractions and decimals
        if da == db:
            return ea == eb
        exact_side = eb if da else ea
        if exact_side.denominator == 1:                    # 12.5 is not 12, however large
            return ea == eb
        return abs(ea - eb) <= Fraction(str(REL_TOL)) * abs(exact_side)
    tol = REL_TOL if da != db else EXACT_TOL
    verdict = mv.sampled_equal(a, b, tol)                    # step 3
    return verdict if verdict is not None else budget.symbolic('diff', a, b, tol)   # step 4


# ----------------------------------------------------------------------------------------------------------
DEMO = [(r'\dfrac{1}{2}', '0.5'), ('0.333', r'\frac13'), (r'10\%', '0.1'), (r'\boxed{3 days per week}', '3'),
        (r'1440 + 1200 = 2640', '2640'), (r'x \in [-2, 7]', r'-2 \le x \le 7'), ('y = 2x + 3', '2x - y + 3 = 0'),
        (r'1 \pm \sqrt{2}', r'1-\sqrt2, 1+\sqrt2'), ('(2,3]', '(2,3)'), (r'\lfloor ix \rfloor', r'\lfloor xi \rfloor'),
        ("__import__('os').system('ls')", '0')]


def main(argv):
    """The command line, `python -m judge` (judge/__main__.py)."""
    import argparse
    ap = argparse.ArgumentParser(prog='python -m judge',
                                 description='Judge a predicted answer against a gold answer (no arguments: a demo).')
    ap.add_argument('pred', nargs='?', help="the model's answer, or a whole completion with a \\boxed{} answer")
    ap.add_argument('gold', nargs='?', help='the gold answer')
    ap.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT, help='CPU seconds for the check')
    args = ap.parse_args(argv)
    if args.pred is None:
        print(f'{"pred":<36} {"gold":<24} verdict')
        for pred, gold in DEMO:
            print(f'{pred:<36} {gold:<24} {equiv_status(pred, gold, args.timeout)}')
    elif args.gold is None:
        ap.error('give both PRED and GOLD, or nothing for the demo')
    else:
        try:
            read = f'{answer_text(args.pred)!r} vs {answer_text(args.gold)!r}'
        except mp.ParseError as e:
            read = str(e)
        print(f'{equiv_status(args.pred, args.gold, args.timeout)}   ({read})')
