"""judge: find the final answer in a model's text and decide whether it equals the gold answer.

    grade(completion_text, gold)  -> GradeResult(answer, correct)   the reward calls this thousands of times a step
    extract_answer(text)          -> str | None                     None means "no answer"
    is_equiv(pred, gold, timeout) -> bool                           never raises; hostile or unparseable -> False
    extract_choice(text, labels)  -> str | None                     multiple choice (ARC, MMLU-STEM, GPQA)
    grade_choice(text, gold, labels) -> GradeResult                 the chosen label against the gold label

    python judge.py '\\frac{1}{2}' '0.5'          # prints True

Extraction (extract_answer): the last complete \\boxed{...} or \\fbox{...} (nested braces, '\\boxed 5'); boxes
joined to it by ',', ';', 'and' or nothing but spaces are read together as a list ('\\boxed{1} and \\boxed{-2}' ->
'1, -2'), boxes joined by 'or' are not (that usually offers one answer twice: '\\boxed{15\\frac{39}{40}} or
\\boxed{\\frac{639}{40}}'); an empty box is skipped. Else the text after the last GSM8K '####'. Else the fallback:
the rest of the sentence after the last 'answer is' / 'answer:' ('The final answer is $28\\%$. I hope...' -> '28\\%').
Else None. There is deliberately no "last number in the text" fallback: it would reward answers never committed to.
is_equiv reads its arguments the same way when they hold a box, '####' or 'answer is'; prose with math in it
('The identity matrix is $I$.') is read as its last math span.

Equivalence policy (symmetric: the order of pred and gold does not matter). Both sides are parsed by mathparse
(reading conventions there: e, i, juxtaposition, thousands, units, ...) and compared as follows:
  case                   policy                                             judged equal
  formatting             $, \\left, \\right, spacing, \\dfrac, \\tfrac vanish   \\dfrac{1}{2} = \\frac12 = 1/2
  integers               thousands separators; leading zeros                7,425,000 = 7425000; 023 = 23
  fractions vs decimals  exact values (a decimal is the rational it reads)  \\frac{1}{2} = 0.5; 2/4 = 1/2
  decimal vs exact       within 1e-4 relative; exactly when the exact side  0.0833333 = 1/12; 2.6667 = 8/3
                         is an integer                                      but 0.333 != 1/3, 12.5 != 12
  decimal vs decimal     exactly: the digits are the answer                 0.50 = 0.5; 16386.17 != 16386.16
  percent                x% equals x and x/100 (both marked: x vs x)        10% = 10 = 0.1; 0.1 != 10
  degrees                x degrees equals x, and x*pi/180                   30^\\circ = 30 = \\frac{\\pi}{6}
  units, currency        trailing units and text dropped                    5\\text{ cm}^2 = 5; \\$18.90 = 18.9
  expressions            exact, else numeric sampling, else sympy (below)   2\\sqrt3 = \\sqrt{12}; \\sec^2y = \\tan^2y+1
  +- answers             a \\pm b is the unordered list a+b, a-b             1 \\pm \\sqrt2 = 1+\\sqrt2, 1-\\sqrt2
  lists, sets            unordered sets, repeats do not count; 'and', 'or', -2, 1 = 1 and -2 = \\{1, -2\\}
                         ';' separate too; one item equals itself alone     \\{5\\} = 5; \\{1\\}\\cup\\{3\\} = \\{1,3\\}
  tuples, intervals      ordered; brackets must match (open/closed)         (1, 4.5) = (1, \\frac92); (2,3] != (2,3)
  unions of intervals    unordered parts (not merged)                       (3,\\infty) \\cup (-\\infty,2)
  inequalities           one variable: the interval                         x > 5 = (5,\\infty); 0\\le x\\le 7 = [0,7]
  'name = value'         its value; names ignored (x, f(x), a_1, (p,q),     x = 2 = 2; (p,q) = (3,2) = (3,2)
                         AB, chains a = b = c, x \\approx 11, x \\in S)       x = 5+5+1 = 11 = 11; x \\in [0,1] = [0,1]
  other equations        lhs - rhs equal up to a constant factor (> 0 for   2x+4y=3 = y=-x/2+3/4
                         inequalities)
  records                'x = 1, y = 2' matched by name, else by value      x = 1, y = 2 = y = 2, x = 1 = (1, 2)
  matrices, vectors      same shape, elementwise; a vector = a tuple        pmatrix = bmatrix = array; (1,2)
  base-b numbers         same digits and base; bare digits match too        2516_8 = 2516, but != 1358
  text answers           case, spaces, \\text and parentheses ignored        \\text{(C)} = C; \\text{Even} = even
  choice letters A-E     a letter equals a text that opens with it          C = C. x = 42 = (C) 42
  refused (-> False)     sums, integrals, limits, matrix arithmetic, times of day; numbers beyond
                         mathvalue.MAX_BITS (exact) or 2^MAX_MAG (numeric) -- unless both strings are the same

How equality is decided (in order, stopping at the first verdict), and the hard time limit:
  1. canonical-string equality (cleaned, spaces and \\text wrappers dropped)                in process, microseconds
  2. exact rational arithmetic (fractions.Fraction; sizes capped by mathvalue.MAX_BITS)   in process
  3. numeric sampling: both trees evaluated at 5 random points (symbols drawn from [0.5, 2.5], so sqrt(x^2) = x,
     as with sympy's positive symbols), in floats, or in 40-digit mpmath where floats cancel or overflow. A
     relative gap above 1e-6 at any point means different; agreement within the tolerance (1e-9, or 1e-4 when
     exactly one side holds a decimal) at >= 2 points means equal; a point where only one side is defined means
     different.                                                                             in process, < 1 ms
  4. only when sampling cannot tell (no point evaluates, or a gap between the two thresholds): sympy's
     simplify(a - b) == 0, then a.equals(b), in symcheck's worker process, killed at the deadline (-> False).
`timeout` is a hard limit for the whole check: step 4 (including a cold worker start, ~0.5 s) stops at the deadline,
and steps 1-3, bounded anyway by the parser caps (mathparse.MAX_CHARS, mathlex.MAX_TOKENS, MAX_DEPTH; ms for
any real answer), look at the clock between comparisons. Out of time means False. Everything is safe from any
thread or process: no step runs eval on the text, and the worker is a plain subprocess (see symcheck.py).
"""
import random
import re
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from . import mathparse as mp
from . import mathvalue as mv
from . import symcheck

DEFAULT_TIMEOUT = 5.0      # seconds for one is_equiv call's symbolic step (the in-process steps take ms)
REL_TOL = 1e-4             # a decimal answer against an exact non-integer value
EXACT_TOL = 1e-9           # float noise allowed when both sides are exact expressions
DIFFERENT = 1e-6           # a relative gap above this (and above the tolerance) at one point means "not equal"
N_POINTS = 5               # numeric sampling points
MAX_BOX_CHARS = 2000       # a \boxed{...} longer than this is not an answer


# ----------------------------------------------------------------------------------------------------------
# Extraction
_BOX_START = re.compile(r'\\(?:boxed|fbox)\s*(\{)|\\boxed\s+(?=[^\s{])')
_CONNECTIVE = re.compile(r'(?:\s|\$|\\[()\[\],;]|\\q?quad|[.,;]|and|\\text\{\s*(?:and|,)?\s*\})*')
_HASHES = re.compile(r'####\s*([^\n]*)')
_ANSWER_IS = re.compile(r'answer\s*(?:is|:)\s*[:*]*', re.I)


def _box_at(text, m):
    """Content and end of the box whose opening matched m, or None if it never closes."""
    i = m.end()
    if m.group(1) is None:                                 # '\boxed 5$' form: up to '$' or whitespace
        j = i
        while j < len(text) and j - i < 100 and text[j] not in '$ \n':
            j += 1
        return text[i:j], j
    depth, j, stop = 1, i, min(len(text), i + MAX_BOX_CHARS)
    while j < stop:
        c = text[j]
        if c in '{}' and text[j - 1] != '\\':
            depth += 1 if c == '{' else -1
            if depth == 0:
                return text[i:j], j + 1
        j += 1
    return None


def _last_boxes(text):
    """Contents of the final box and of the boxes joined to it by connectives, in text order."""
    starts = list(_BOX_START.finditer(text, max(0, len(text) - 200_000)))[-64:]
    found = []                                             # (start, end, content), last first
    for m in reversed(starts):
        box = _box_at(text, m)
        if box is None or not box[0].strip():
            continue
        start, (content, end) = m.start(), box
        if found:
            gap = text[end:found[-1][0]]
            if end > found[-1][0] or len(gap) > 60 or not _CONNECTIVE.fullmatch(gap) \
                    or not (gap.isspace() or gap == '' or re.search(r'[,;]|and', gap)):
                break
        found.append((start, end, content.strip()))
        if len(found) >= 20:
            break
    return [c for _, _, c in reversed(found)]


def extract_answer(text):
    """The final answer in a model's (or a solution's) text, or None when there is none."""
    if not text:
        return None
    boxes = _last_boxes(text)
    if boxes:
        return ', '.join(boxes)
    tail = text[-20_000:]
    hashes = list(_HASHES.finditer(tail))
    if hashes and hashes[-1].group(1).strip():
        return hashes[-1].group(1).strip()[:MAX_BOX_CHARS]
    said = list(_ANSWER_IS.finditer(tail))
    if said:
        rest = tail[said[-1].end():said[-1].end() + 500].split('\n')[0]
        rest = re.split(r'\.(?:\s|$)|I hope', rest)[0].strip().strip('*').strip()
        if re.match(r'[A-Za-z]{2,}\s', rest) and ' is ' in rest:
            rest = rest[rest.rindex(' is ') + 4:]          # 'Answer: The largest $n$ is 34'
        if rest.startswith('$') and rest.count('$') >= 2:
            rest = rest[1:rest.index('$', 1)]              # '$28 \%$ because ...' -> the math part
        rest = rest.strip(' .:*')
        return rest or None
    return None


def extract_choice(text, labels=('A', 'B', 'C', 'D')):
    """The option label a model chose ('B'), or None. Looks, in order, at the last box, the words after the last
    'answer is' / 'Answer:', a short final line, and the start of the text ('B. Because...'); the label must open
    that span ('(B) 42', 'B.', 'option B'). In prose only capitals count ('answer is a prime' is not option A)."""
    if not text:
        return None
    labels = [str(x).strip() for x in labels]
    alt = '|'.join(re.escape(x) for x in sorted(labels, key=len, reverse=True))
    opening = rf'^[\s*:$]*(?:option|choice)?\s*\(?\s*({alt})\s*\)?(?![A-Za-z0-9])'
    tail = text[-20_000:]
    spans = [(b, True) for b in _last_boxes(tail)[-1:]]
    said = list(re.finditer(r'answer\s*(?:is|:)', tail, re.I))
    if said:
        spans.append((tail[said[-1].end():said[-1].end() + 200], False))
    lines = [ln for ln in tail.strip().split('\n') if ln.strip()]
    if lines and len(lines[-1].strip()) <= 20:
        spans.append((lines[-1], False))
    m = re.match(rf'\s*\(?({alt})[).:]', text)               # 'A. Because ...': the text opens with its choice
    if m:
        spans.append((m.group(0), False))
    for span, in_box in spans:
        span = re.sub(r'\\(?:text|textbf|mathrm|mathbf)\{([^{}]*)\}', r'\1', span).replace('**', '')
        m = re.match(opening, span, re.I if in_box else 0)     # in prose 'a' is an article, not option A
        if m is None and not in_box:
            m = re.match(rf'^[\s*:$]*\(\s*({alt})\s*\)', span, re.I)   # but '(b)' is option B
        if m:
            return next(x for x in labels if x.lower() == m.group(1).lower())
    return None


@dataclass(frozen=True)
class GradeResult:
    answer: str | None     # the extracted final answer (None: the text has no answer)
    correct: bool


def grade(completion_text, gold, timeout=DEFAULT_TIMEOUT):
    """Extract the model's answer and judge it against gold (a bare answer, or a solution with \\boxed / ####)."""
    if isinstance(gold, (int, float, Fraction)) and not isinstance(gold, bool):
        gold = str(gold)
    if not isinstance(gold, str) or not gold.strip():
        raise ValueError(f'grade(): gold must be a non-empty answer string, got {gold!r}; '
                         'pass the dataset\'s answer field (or its solution text with a \\boxed answer)')
    answer = extract_answer(completion_text) if isinstance(completion_text, str) else None
    if answer is None:
        return GradeResult(None, False)
    return GradeResult(answer, is_equiv(answer, gold, timeout))


def grade_choice(completion_text, gold, labels=('A', 'B', 'C', 'D')):
    """Multiple choice: the chosen label (extract_choice) against the gold label."""
    labels = [str(x).strip() for x in labels]
    if str(gold).strip() not in labels:
        raise ValueError(f'grade_choice(): gold label {gold!r} is not one of the labels {labels}; pass the '
                         'question\'s own labels (ARC has rows labelled 1-4, MMLU gives an index: map it to A-D)')
    answer = extract_choice(completion_text, labels) if isinstance(completion_text, str) else None
    return GradeResult(answer, answer == str(gold).strip())


# ----------------------------------------------------------------------------------------------------------
# Equivalence
_SCALAR = {'num', 'sym', 'const', 'add', 'mul', 'neg', 'div', 'pow', 'func', 'pct', 'deg', 'base', 'pm'}
_INF = ('const', 'inf')
_WRAPPER = re.compile(r'\\(?:text|textbf|textit|textnormal|textrm|mbox|mathrm|emph)\s*\{([^{}]*)\}')


def is_equiv(pred, gold, timeout=DEFAULT_TIMEOUT):
    """True when pred and gold are the same answer under the policy in the module docstring. Never raises."""
    if pred is None or gold is None:
        return False
    try:
        return _equiv(_answer_text(pred), _answer_text(gold), time.monotonic() + timeout)
    except Exception:          # ParseError, TooBig, TimeoutError, RecursionError, ...: a bad answer is wrong
        return False


_MATH_SPAN = re.compile(r'\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]', re.S)


def _answer_text(s):
    """The answer inside what is_equiv was given: a box or 'answer is' if there is one; in prose with math
    ('The identity matrix is $I$.'), the last math span."""
    s = str(s)
    if '\\boxed' in s or '\\fbox' in s or '####' in s or re.search(r'answer\s*(?:is|:)', s[-2000:], re.I):
        s = extract_answer(s) or s
    tail = s[-5000:]                                       # (bounded: the span regex is quadratic at worst)
    spans = list(_MATH_SPAN.finditer(tail))
    if spans:
        prose = _MATH_SPAN.sub(' ', tail)
        if any(w.lower() not in ('and', 'or') for w in re.findall(r'(?<!\\)\b[A-Za-z]{3,}', prose)):
            s = next(g for g in spans[-1].groups() if g is not None)
    s = s.strip()
    if len(s) > mp.MAX_CHARS:
        raise mp.ParseError('answer too long')
    return s


def _canon(s):
    """Spelling-level normal form: cleaned, text wrappers unwrapped, spaces only between two word characters."""
    s = _WRAPPER.sub(r'\1', mp.clean(s))
    s = re.sub(r'\s+', ' ', s)
    return re.sub(r' (?=\W)|(?<=\W) ', '', s).strip()


def _wordy(s):
    """Shaped like words: letters, spaces and a little punctuation, maybe in parentheses ('C', '(C)', 'even')."""
    return re.fullmatch(r"\(?[A-Za-z][A-Za-z .,'\-]*\)?", _WRAPPER.sub(r'\1', s).replace('$', '').strip())


def _texty(s):
    """A words-only answer (\\text{Evelyn}, even, (C)): compared as text, not as a product of symbols."""
    if not _wordy(s):
        return False
    inner = _WRAPPER.sub(r'\1', s).replace('$', '').strip()
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


def _equiv(p, g, deadline):
    if not p or not g:
        return False
    if _canon(p) == _canon(g):
        return True
    for x, y in ((p, g), (g, p)):                          # a choice letter: 'C' against 'C. x = 42', '(C) 42'
        letter = re.fullmatch(r'\s*\(?([A-E])\)?\s*', _WRAPPER.sub(r'\1', y))
        if letter and re.match(rf'\s*\(?{letter.group(1)}(?:\)|\.|:)', _WRAPPER.sub(r'\1', x)):
            return True
    if _texty(p) or _texty(g):
        return bool(_wordy(p) and _wordy(g)) and _text_key(p) == _text_key(g) != ''
    a, b = _parse(p), _parse(g)
    if a[0] == 'error' or b[0] == 'error':
        return False
    return _same(a, b, _Ctx(deadline))


class _Ctx:
    def __init__(self, deadline):
        self.deadline = deadline

    def check(self):
        if time.monotonic() > self.deadline:
            raise TimeoutError('judge deadline passed')

    def symbolic(self, kind, a, b, extra):
        return bool(symcheck.ask((kind, a, b, extra), self.deadline))


def _same(a, b, ctx):
    ctx.check()
    ka, kb = a[0], b[0]
    if ka == 'rel' or kb == 'rel':
        return _same_rel(a, b, ctx)
    if ka in ('text', 'ellipsis') or kb in ('text', 'ellipsis'):
        return a == b
    if ka == 'matrix' or kb == 'matrix':
        return _same_matrix(a, b, ctx)
    if ka == 'union' or kb == 'union':
        pa, pb = a[1] if ka == 'union' else (a,), b[1] if kb == 'union' else (b,)
        if all(p[0] == 'set' for p in pa + pb):          # \{1,2\} \cup \{3\} = \{1,2,3\}
            return _match([x for p in pa for x in p[1]], [x for p in pb for x in p[1]], ctx)
        return _match(pa, pb, ctx)
    if ka == 'ratio' or kb == 'ratio':
        return ka == kb and _ordered(a[1], b[1], ctx)
    if ka == 'seq' and kb == 'seq':
        return a[1:3] == b[1:3] and _ordered(a[3], b[3], ctx)
    if {ka, kb} == {'list', 'seq'}:                        # '3, 2' against the pair (3, 2): in order
        s, l = (a, b) if ka == 'seq' else (b, a)
        return s[1:3] == ('(', ')') and _ordered(s[3], _items(l), ctx)
    ra, rb = _record(a), _record(b)
    if ra and rb and ra.keys() == rb.keys():               # 'x = 1, y = 2' against 'y = 2, x = 1'
        return all(_same(ra[k], rb[k], ctx) for k in ra)
    xa, xb = _items(a), _items(b)
    if xa is not None or xb is not None:
        if ka == 'seq' or kb == 'seq':
            return False
        return _match(xa if xa is not None else [a], xb if xb is not None else [b], ctx)
    if ka in _SCALAR and kb in _SCALAR:
        return _same_scalar(a, b, ctx)
    return False


def _ordered(xs, ys, ctx):
    return len(xs) == len(ys) and all(_same(x, y, ctx) for x, y in zip(xs, ys))


def _match(xs, ys, ctx):
    """Unordered, as sets: every element on each side equals some element on the other (repeats do not count)."""
    return all(any(_same(x, y, ctx) for y in ys) for x in xs) and \
        all(any(_same(x, y, ctx) for x in xs) for y in ys)


def _items(node):
    """The elements of a list, a set or a +- value (assignments read as their values); None for other nodes."""
    if node[0] in ('list', 'set'):
        raw = node[1]
    elif node[0] in _SCALAR and mv.has(node, lambda n: n[0] == 'pm'):
        raw = (node,)
    else:
        return None
    out = []
    for x in raw:
        v = _value(x) if x[0] == 'rel' else None
        x = v if v is not None else x
        out.extend(mv.expand_pm(x) if x[0] in _SCALAR else [x])
    return out


def _record(node):
    """{name: value} for 'x = 1, y = 2' (every item assigns a different plain name), else None."""
    if node[0] != 'list':
        return None
    out = {}
    for it in node[1]:
        if it[0] != 'rel' or it[1] != ('=',) or it[2][0][0] != 'sym' or it[2][0][1] in out:
            return None
        out[it[2][0][1]] = it[2][1]
    return out


def _is_target(n):
    """Something an answer names on the left of '=': x, a_1, f(x), AB, NO/BO, (p, q), \\text{Area}."""
    k = n[0]
    if k in ('sym', 'text'):
        return True
    if k == 'mul':                                         # f(x), p(x), AB: a name times names
        return n[1][0][0] == 'sym' and not mv.has(n, lambda x: x[0] == 'num')
    if k == 'div':
        return _is_target(n[1]) and _is_target(n[2])
    if k in ('seq', 'ratio'):
        return all(_is_target(x) for x in (n[3] if k == 'seq' else n[1]))
    return False


def _value(r):
    """The value a relation states ('x = 2' -> 2, 'x = 1+1 = 2' -> 2, 'x \\in S' -> S, 'x \\approx 11' -> 11)."""
    ops, xs = r[1], r[2]
    if 'approx' in ops:
        j = ops.index('approx')
        if any(o != '=' for o in ops[:j]):
            return None
        return xs[1] if j == 0 and _is_target(xs[0]) else xs[j]
    if all(o == '=' for o in ops):
        if len(xs) >= 3:
            return xs[-1]
        return xs[1] if _is_target(xs[0]) else None
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
        if not _is_target(lhs):
            lhs, rhs, op = rhs, lhs, _FLIP[op]
        if not _is_target(lhs) or mv.symbols(rhs):
            return None
        if op in ('<', 'le'):
            return ('seq', '(', ')' if op == '<' else ']', (('neg', _INF), rhs))
        return ('seq', '(' if op == '>' else '[', ')', (rhs, _INF))
    if len(ops) == 2 and all(o in ('<', 'le') for o in ops) and _is_target(xs[1]) \
            and not mv.symbols(xs[0]) and not mv.symbols(xs[2]):
        return ('seq', '(' if ops[0] == '<' else '[', ')' if ops[1] == '<' else ']', (xs[0], xs[2]))
    return None


def _same_rel(a, b, ctx):
    if a[0] == b[0] == 'rel':
        va, vb = _value(a), _value(b)
        if va is not None and vb is not None:
            return _same(va, vb, ctx)
        ia, ib = _interval(a) or (va if a[1] == ('in',) else None), _interval(b) or (vb if b[1] == ('in',) else None)
        if ia is not None and ib is not None:
            return _same(ia, ib, ctx)
        return _same_relation(a, b, ctx)
    r, other = (a, b) if a[0] == 'rel' else (b, a)
    v = _value(r) or _interval(r)
    return v is not None and _same(v, other, ctx)


def _same_relation(a, b, ctx):
    """Equations and inequalities: the same relation, lhs - rhs equal up to a (positive, for <) constant factor."""
    def orient(r):
        if all(o in ('>', 'ge') for o in r[1]):
            return tuple(_FLIP[o] for o in reversed(r[1])), tuple(reversed(r[2]))
        return r[1], r[2]
    (oa, xa), (ob, xb) = orient(a), orient(b)
    if oa != ob:
        return False
    if len(xa) != 2 or not all(x[0] in _SCALAR for x in xa + xb) or oa[0] in ('in', 'approx'):
        return _ordered(xa, xb, ctx)
    da, db = ('add', (xa[0], ('neg', xa[1]))), ('add', (xb[0], ('neg', xb[1])))
    if not mv.symbols(da) and not mv.symbols(db):
        return _ordered(xa, xb, ctx)
    sign = 'pos' if oa[0] in ('<', 'le') else 'any'
    verdict = _sample_ratio(da, db, sign)
    return verdict if verdict is not None else ctx.symbolic('ratio', da, db, sign)


def _same_matrix(a, b, ctx):
    if a[0] == b[0] == 'matrix':
        ra, rb = a[1], b[1]
        return len(ra) == len(rb) and len(ra[0]) == len(rb[0]) and \
            all(_ordered(x, y, ctx) for x, y in zip(ra, rb))
    m, o = (a, b) if a[0] == 'matrix' else (b, a)
    rows = m[1]
    if o[0] == 'seq' and o[1:3] in (('(', ')'), ('[', ']')) and (len(rows) == 1 or len(rows[0]) == 1):
        return _ordered([x for row in rows for x in row], o[3], ctx)   # a vector written as a tuple
    return False


def _same_scalar(a, b, ctx):
    for kind in ('pct', 'deg'):
        if a[0] == kind and b[0] == kind:
            return _same_scalar(a[1], b[1], ctx)
        if a[0] == kind or b[0] == kind:
            m, o = (a, b) if a[0] == kind else (b, a)
            if _same_scalar(m[1], o, ctx):
                return True
            if kind == 'pct':                              # 10% also reads as 0.1
                return _value_eq(('div', m[1], ('num', Fraction(100), False)), o, ctx)
            if mv.has(o, lambda n: n == ('const', 'pi')):  # 30 degrees also reads as pi/6
                return _value_eq(('div', ('mul', (m[1], ('const', 'pi'))), ('num', Fraction(180), False)), o, ctx)
            return False
    if a[0] == 'base' or b[0] == 'base':
        return _same_base(a, b)
    return _value_eq(a, b, ctx)


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


def _value_eq(a, b, ctx):
    if mv.has(a, lambda n: n == _INF) or mv.has(b, lambda n: n == _INF):
        return _inf_sign(a) is not None and _inf_sign(a) == _inf_sign(b)
    ea, eb = mv.exact(a), mv.exact(b)                      # TooBig propagates: the answer is wrong
    dec = lambda n: mv.has(n, lambda x: x[0] == 'num' and x[2])
    da, db = dec(a), dec(b)
    if ea is not None and eb is not None:
        if da == db:
            return ea == eb
        exact_side = eb if da else ea
        if exact_side.denominator == 1:                    # 12.5 is not 12, however large
            return ea == eb
        return abs(ea - eb) <= Fraction(str(REL_TOL)) * abs(exact_side)
    tol = REL_TOL if da != db else EXACT_TOL
    verdict = _sample_eq(a, b, tol)
    return verdict if verdict is not None else ctx.symbolic('diff', a, b, tol)


def _points(a, b):
    names = sorted(mv.symbols(a) | mv.symbols(b))
    if len(names) > 12:
        return []
    rng = random.Random(20240917)                          # deterministic: the same pair always gets one verdict
    return [{s: complex(rng.uniform(0.5, 2.5)) for s in names} for _ in range(N_POINTS if names else 1)]


def _value_at(node, env, precise):
    """Value at one point, or None where the tree is undefined (a domain error, 1/0)."""
    try:
        return mv.approx(node, env, precise)
    except (mv.Lossy, mp.TooBig):
        raise                  # Lossy: retry precisely; TooBig: beyond 2^MAX_MAG, the answer is not judged
    except OverflowError:
        raise mp.TooBig('overflow') if precise else mv.Lossy('overflow')
    except (ArithmeticError, ValueError, TypeError, KeyError):
        return None


def _pair(a, b, env):
    """Both values at one point: floats, or 40-digit mpmath for both when floats cancel or overflow."""
    try:
        return _value_at(a, env, False), _value_at(b, env, False), 1e-12
    except mv.Lossy:
        return _value_at(a, env, True), _value_at(b, env, True), 1e-30


def _gap(u, v):
    return abs(u - v) / max(abs(u), abs(v), 1e-300)


def _sample_eq(a, b, tol):
    """True / False from numeric sampling, or None when it cannot tell."""
    points, ok, unsure = _points(a, b), 0, False
    for env in points:
        va, vb, zero = _pair(a, b, env)
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


def _sample_ratio(da, db, sign):
    """Is da / db one nonzero constant (positive, for inequalities) at every sample point?"""
    ratios = []
    for env in _points(da, db):
        va, vb, zero = _pair(da, db, env)
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
    return True if all(_gap(x, r) <= EXACT_TOL for x in ratios) else None


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: python judge.py PRED GOLD   (prints whether they are the same answer)')
    print(is_equiv(sys.argv[1], sys.argv[2]))
