"""mathparse: a small, safe parser for final answers written in LaTeX or plain math.

Why not sympify / parse_expr / latex2sympy? They run eval() on (a rewrite of) their input, so a model's answer
could execute Python, and sympy evaluates eagerly, so 9^{9^{9^{9}}} would hang the trainer. Here a hand-written
tokenizer and recursive-descent parser turn text into a tree of plain tuples; nothing is evaluated while
parsing, and hard caps are checked before anything is built:

    MAX_CHARS  characters per answer     MAX_TOKENS  tokens     MAX_DEPTH  nesting depth
and, when values are computed, mathvalue.MAX_BITS caps every exact number (2^{9^9} raises TooBig, uncomputed).

    tree = parse(clean(r'\\frac{1}{2} \\pm \\sqrt{3}'))   # ('pm', ('div', ...), ('func', 'sqrt', ...))

Tree nodes (tuples: they pickle to the judge's sympy worker and hash for caching):
    ('num', Fraction, is_decimal[, digits])  the digit string is kept for integer literals (base-b answers)
    ('sym', name)  ('const', 'pi' | 'e' | 'i' | 'inf')  ('text', words)
    ('add', terms)  ('mul', factors)  ('neg', x)  ('div', a, b)  ('pow', a, b)  ('func', name, args)
    ('pm', a, b)  a +- b (a is None for a bare +-b)    ('pct', x)  x%    ('deg', x)  x degrees
    ('base', digits, b)  2516_8                         ('ellipsis',)
    ('seq', open, close, items)  (1,2)  [0,1)  (2,\\infty)     ('set', items)  \\{1,2\\}
    ('list', items)  1, 2 and 3     ('matrix', rows)     ('union', parts)     ('ratio', parts)  7:32
    ('rel', ops, operands)  x = 2,  0 < x \\le 1,  x \\in [0,1]   (ops from = < > le ge ne approx in)

Reading conventions (the judge's docstring has the equivalence policy built on them):
  - e is Euler's number, i the imaginary unit; juxtaposition multiplies (f(x) is f*x, xy is x*y, 2\\pi r)
  - 2^10 is 2^{10} (the plain-math reading, not LaTeX's 2^1 0); 2^3^2 = 2^(3^2)
  - an integer before \\frac{int}{int} or int/int is a mixed number: 1\\frac{4}{5} = 1 4/5 = 9/5
  - inside \\sin(...) etc. a degree sign converts to radians (\\sin 90^\\circ = 1); elsewhere it is only a mark
  - '1,000' (outside brackets), '1 000', '1\\,000', '1{,}000' are thousands; a comma is never a decimal point
  - 1.5e3 is scientific notation; 0.1\\overline{6} is the repeating decimal 1/6
  - a trailing \\text{...}, \\mbox{...}, unit word (cm, dollars, ...) or word of 3+ letters after a number
    ('5 apples') is a unit and dropped; a unit of one or two letters needs a space (10cm is 10*c*m, 10 cm is 10)
  - \\left, \\right and spacing vanish; an answer escaped twice over (every command written \\\\frac) is unescaped

What a tree is worth (exact rationals, numeric samples, sympy) is mathvalue.py's business.
"""
import re
from fractions import Fraction

MAX_CHARS = 1000       # longer final answers are not judged (a box holds an answer, not an essay)
MAX_TOKENS = 600
MAX_DEPTH = 40         # brackets, braces, exponents and fractions nested deeper than this are refused


class ParseError(ValueError):
    """The text is not an answer this parser understands (the judge then calls it wrong)."""


class TooBig(ValueError):
    """A constant in the answer is too large to compute safely (e.g. 9^{9^{9^9}})."""


# ----------------------------------------------------------------------------------------------------------
# Cleaning: plain string rewrites done before tokenizing (all regexes here are linear-time).
_UNICODE = {'\u2212': '-', '\u2013': '-', '\u00d7': r'\times ', '\u00b7': r'\cdot ', '\u22c5': r'\cdot ',
            '\u00f7': '/', '\u2264': r'\le ', '\u2265': r'\ge ', '\u2260': r'\ne ', '\u00b1': r'\pm ',
            '\u2213': r'\mp ', '\u03c0': r'\pi ', '\u221e': r'\infty ', '\u221a': r'\sqrt ', '\u222a': r'\cup ',
            '\u2208': r'\in ', '\u00b0': r'^\circ ', '\u2248': r'\approx ', '\u00b2': '^2', '\u00b3': '^3',
            '\u00a0': ' ', '\u2009': ' ', '\u202f': ' ', '\u20ac': '', '\u00a3': ''}
_DOUBLED_BACKSLASH = re.compile(r'\\\\(?=(?:[dtc]?frac|sqrt|pi|text|left|right|cdot|times|infty|le|ge|circ)\b)')


def clean(s):
    """Normalise notation that does not change meaning: unicode symbols, '$', \\dfrac, \\frac12, '\\\\frac'."""
    for k, v in _UNICODE.items():
        if k in s:
            s = s.replace(k, v)
    if re.search(r'\\\\[A-Za-z]', s) and not re.search(r'(?<!\\)\\[A-Za-z]', s):
        s = s.replace('\\\\', '\\')                      # escaped twice over: \\frac, \\\\ for a row break
    s = s.replace('\\$', '').replace('$', '').replace('\\%', '%')
    s = re.sub(r'\\[()\[\]]', ' ', s)                      # \( \) \[ \] math delimiters
    s = _DOUBLED_BACKSLASH.sub(r'\\', s)          # '\\frac' typed with a doubled backslash (escaped JSON)
    s = s.replace('{,}', '').replace(',\\!', '')   # LaTeX thousands separators: 14{,}916 and 32,\!348
    s = re.sub(r'\\[dtc]frac', r'\\frac', s)
    s = re.sub(r'\\[dt]binom', r'\\binom', s)
    s = re.sub(r'\\(frac|binom)\s*(\d)\s*(\d)', r'\\\1{\2}{\3}', s)   # \frac12, \frac 59
    s = re.sub(r'\\(frac|binom)\s*(\d)\s*(?=\{)', r'\\\1{\2}', s)     # \frac9{19}
    s = re.sub(r'(\\frac\{[^{}]*\})\s*(\d)', r'\1{\2}', s)           # \frac{270}7
    s = s.strip()
    if not s.endswith('..'):
        s = s.rstrip('.,;').strip()                    # sentence punctuation, but not an ellipsis
    return s


# ----------------------------------------------------------------------------------------------------------
# Tokenizer. Tokens are (kind, value) pairs:
#   num (Fraction, is_decimal, digits) | id name | word letters | cmd name | op symbol | text words | sep word
#   pct | deg | unit | rowsep | amp | begin env | end env | ellipsis
FUNCS = {'sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'arcsin', 'arccos', 'arctan', 'arccot', 'sinh', 'cosh',
         'tanh', 'log', 'ln', 'lg', 'exp', 'sqrt'}
GREEK = {'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta',
         'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'varphi', 'chi',
         'psi', 'omega', 'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Sigma', 'Phi', 'Psi', 'Omega'}
UNIT_WORDS = {'cm', 'mm', 'km', 'meter', 'metre', 'centimeter', 'kilometer', 'millimeter', 'inch', 'ft',
              'feet', 'foot', 'yard', 'yd', 'mile', 'mph', 'kph', 'sec', 'second', 'minute', 'min', 'hour', 'hr',
              'day', 'week', 'month', 'year', 'dollar', 'cent', 'euro', 'yuan', 'unit', 'sq', 'square', 'cubic',
              'kg', 'gram', 'pound', 'lb', 'oz', 'ounce', 'liter', 'litre', 'ml', 'gallon', 'radian',
              'rad', 'point', 'way', 'people', 'person', 'student', 'time', 'page', 'step', 'ton', 'gm',
              'arcsec', 'arcsecond', 'parsec', 'erg', 'joule', 'watt', 'volt', 'kelvin', 'angstrom', 'magnitude'}
_SPACING = {',', ';', ':', '!', ' ', 'quad', 'qquad', 'displaystyle', 'textstyle', 'left', 'right', 'big', 'Big',
            'bigl', 'bigr', 'Bigl', 'Bigr', 'bigg', 'Bigg', 'biggl', 'biggr', 'limits', 'nolimits', 'boxed',
            'fbox', 'middle', 'mathstrut', 'strut', 'hfill', 'enspace', 'thinspace', 'negthinspace', 'angle',
            'measuredangle', 'triangle', 'square'}
_TEXTLIKE = {'text', 'textbf', 'textit', 'textnormal', 'textrm', 'textsf', 'texttt', 'mbox', 'mathrm', 'emph',
             'operatorname', 'mathit', 'mathsf', 'mathtt', 'hbox'}
_NAMELIKE = {'mathbf', 'boldsymbol', 'vec', 'overline', 'overrightarrow', 'hat', 'bar', 'tilde', 'mathcal',
             'mathbb', 'bm', 'widehat', 'underline', 'dot', 'ddot'}
_CMD_OPS = {'cdot': '*', 'times': '*', 'ast': '*', 'div': '/', 'le': 'le', 'leq': 'le', 'leqslant': 'le',
            'ge': 'ge', 'geq': 'ge', 'geqslant': 'ge', 'ne': 'ne', 'neq': 'ne', 'lt': '<', 'gt': '>',
            'approx': 'approx', 'simeq': 'approx', 'equiv': '=', 'pm': 'pm', 'mp': 'pm', 'in': 'in',
            'cup': 'cup', 'lfloor': 'lfloor', 'rfloor': 'rfloor', 'lceil': 'lceil', 'rceil': 'rceil',
            'lvert': '|', 'rvert': '|', 'vert': '|', '|': '|', 'mid': '|', 'langle': '(', 'rangle': ')',
            '{': '\\{', '}': '\\}', 'lbrace': '\\{', 'rbrace': '\\}', 'lbrack': '[', 'rbrack': ']'}
_NUM = re.compile(r'(\d+)(?:\.(\d*))?|\.(\d+)')
_GROUP = re.compile(r'(,|\s|\\[, ;:]|~)(\d{3})(?!\d)')
_SCI = re.compile(r'[eE]([+-]?\d{1,5})(?!\d)')
_WORD = re.compile(r'[A-Za-z]+')


def _word_token(w):
    lw = w.lower()
    if lw in ('and', 'or'):
        return ('sep', lw)
    if lw in ('percent', 'pct', 'percentage'):
        return ('pct', None)
    if lw in ('degree', 'degrees', 'deg'):
        return ('deg', None)
    if lw in FUNCS or lw in ('pi', 'infty', 'inf', 'infinity'):
        return ('cmd', {'inf': 'infty', 'infinity': 'infty'}.get(lw, lw))
    if len(w) > 1 and (lw in UNIT_WORDS or lw[:-1] in UNIT_WORDS or lw[:-2] in UNIT_WORDS):   # cms, inches
        return ('unit', lw)
    return ('id', w) if len(w) == 1 else ('word', w)


def _read_group(s, j):
    """Raw text of the brace group starting at s[j] ('{...}'), or of the single next character."""
    while j < len(s) and s[j] == ' ':
        j += 1
    if j >= len(s):
        raise ParseError('a command is missing its argument')
    if s[j] != '{':
        return s[j], j + 1
    depth, k = 0, j
    while k < len(s):
        depth += {'{': 1, '}': -1}.get(s[k], 0)
        if depth == 0:
            return s[j + 1:k], k + 1
        k += 1
    raise ParseError('unbalanced braces')


def _read_number(s, i, top):
    m = _NUM.match(s, i)
    j = m.end()
    if m.group(3) is not None:                                 # '.5'
        return ('num', (Fraction('0.' + m.group(3)), True, None)), j
    whole, frac = m.group(1), m.group(2)
    if frac is None and len(whole) <= 3 and whole[0] != '0':   # thousands: 1,000,000  1 000  1\,000
        groups, k = [], j
        while True:
            g = _GROUP.match(s, k)
            if g is None or (g.group(1) == ',' and not top):   # inside brackets a comma separates items
                break
            groups.append(g.group(2))
            k = g.end()
        if groups:
            whole, j = whole + ''.join(groups), k
            d = re.match(r'\.(\d+)', s[j:j + 40])
            frac, j = (d.group(1), j + d.end()) if d else (None, j)
    if len(whole) > 1000:
        raise ParseError('number literal too long')
    is_dec = bool(frac)                                        # '42.' is 42 followed by a full stop
    value = Fraction(int(whole)) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    rep = re.match(r'\\overline\{(\d{1,50})\}', s[j:j + 70]) if frac is not None else None
    if rep:                                                    # 0.1\overline{6} = 1/6, exactly
        r, f = rep.group(1), frac or ''
        value = int(whole) + Fraction(int(f + r) - int(f or '0'), 10 ** len(f) * (10 ** len(r) - 1))
        return ('num', (value, False, None)), j + rep.end()
    e = _SCI.match(s, j)
    if e is not None and not (j + len(e.group(0)) < len(s) and s[j + len(e.group(0))].isalpha()):
        exp = int(e.group(1))
        if abs(exp) > 1000:
            raise TooBig('exponent of a number literal is too large')
        value, is_dec, j = value * Fraction(10) ** exp, True, e.end()
    return ('num', (value, is_dec, None if is_dec else whole)), j


def tokenize(s):
    """Turn a cleaned answer string into a list of tokens (raises ParseError on anything unknown)."""
    toks, i, n, depth = [], 0, len(s), 0
    while i < n:
        if len(toks) > MAX_TOKENS:
            raise ParseError('answer has too many tokens')
        c = s[i]
        if c.isspace() or c == '~':
            i += 1
        elif s.startswith('...', i):
            toks.append(('ellipsis', None))
            i += 3
        elif c.isdigit() or (c == '.' and i + 1 < n and s[i + 1].isdigit()):
            grouping = depth == 0 and not (toks and toks[-1][0] in ('op', 'cmd') and toks[-1][1] in ('_', '^', 'sqrt'))
            tok, i = _read_number(s, i, grouping)
            toks.append(tok)
        elif c.isascii() and c.isalpha():
            w = _WORD.match(s, i).group()
            tok = _word_token(w)
            if tok[0] == 'unit' and len(w) <= 2 and i > 0 and s[i - 1].isdigit():
                tok = ('word', w)                              # 10cm: c times m; a short unit needs a space
            elif tok[0] == 'word' and len(w) >= 3 and s[i - 1].isspace() and toks \
                    and (toks[-1][0] == 'num' or toks[-1] in (('op', '}'), ('op', ')'))):
                tok = ('unit', w.lower())                      # '5 apples': a word after a number is a unit
            toks.append(tok)
            i += len(w)
        elif c == '\\':
            if i + 1 < n and s[i + 1] == '\\':
                toks.append(('rowsep', None))
                i += 2
                continue
            m = _WORD.match(s, i + 1)
            name = m.group() if m else s[i + 1:i + 2]
            i += 1 + len(name)
            if name in _SPACING or name == '':
                continue
            if name in _CMD_OPS:
                toks.append(('op', _CMD_OPS[name]))
            elif name in _TEXTLIKE or name in _NAMELIKE:
                content, i = _read_group(s, i)
                if name == 'mathbb' and content.strip() == 'R':
                    toks.extend(tokenize(r'(-\infty, \infty)'))     # the real line
                else:
                    toks.extend(_text_tokens(content.strip(), name in _NAMELIKE, depth == 0))
            elif name in ('begin', 'end'):
                env, i = _read_group(s, i)
                toks.append((name, env.strip('*')))
                if name == 'begin' and env == 'array':
                    _, i = _read_group(s, i)                   # column spec {cc}
            elif name in ('phantom', 'hphantom', 'vphantom'):
                _, i = _read_group(s, i)
            elif name in ('hbar', 'odot', 'ell', 'aleph'):
                toks.append(('id', name))
            elif name in ('pmod', 'bmod', 'mod'):
                break                                          # '9 \pmod{11}': the rest is a remark
            elif name in ('dots', 'ldots', 'cdots', 'dotsc', 'dotsb'):
                toks.append(('ellipsis', None))
            elif name in ('circ', 'degree'):
                toks.append(('deg', None))
            elif name == '%':
                toks.append(('pct', None))
            elif name == 'prime':
                toks.append(('op', "'"))
            elif name in ('emptyset', 'varnothing', 'empty'):
                toks.append(('cmd', 'emptyset'))
            elif name in FUNCS or name in GREEK or name in ('frac', 'binom', 'pi', 'infty', 'arccot'):
                toks.append(('cmd', name) if name not in GREEK else ('id', name))
            else:
                raise ParseError(f'unsupported LaTeX command \\{name}')
        else:
            two = s[i:i + 2]
            if two in ('<=', '>=', '!=', '**', '=='):
                toks.append(('op', {'<=': 'le', '>=': 'ge', '!=': 'ne', '**': '^', '==': '='}[two]))
                i += 2
                continue
            if c in '([{':
                depth += 1
            elif c in ')]}':
                depth -= 1
            if c == '%':
                toks.append(('pct', None))
            elif c == '&':
                toks.append(('amp', None))
            elif c in '()[]{}+-*/^_!=<>|,;:\'':
                toks.append(('op', c))
            else:
                raise ParseError(f'unexpected character {c!r}')
            i += 1
    return toks


def _text_tokens(content, namelike, top):
    """\\text{...} and friends: a separator, a unit, a name, digits, or words."""
    low = content.lower().strip(' .,')
    if content == '':
        return []
    if re.fullmatch(r'[\d.]+', content):                   # \mathbf{2340}, \text{13}
        return tokenize(content)
    if namelike or re.fullmatch(r'[A-Za-z]', content):
        if not re.fullmatch(r'[A-Za-z][A-Za-z0-9]*', content):
            raise ParseError(f'unsupported name {content!r}')
        return [('id', content)]
    if low in ('and', 'or', ''):
        return [('sep', low or ',')]
    if not re.search(r'[A-Za-z]', content):                   # \text{13}, \text{,}
        return tokenize(clean(content)) if top else tokenize(content)
    words = low.split()
    if all(w.isalpha() and _word_token(w)[0] in ('unit', 'deg', 'pct') for w in words):
        kind = _word_token(words[0])[0]
        return [(kind, None)] if kind in ('deg', 'pct') else [('unit', low)]
    if low.replace(' ', '').isalpha() and low in FUNCS:
        return [('cmd', low)]
    return [('text', ' '.join(words))]


# ----------------------------------------------------------------------------------------------------------
# Parser: recursive descent, lowest precedence first:
#   list  := item ((',' | ';' | and | or) item)*
#   item  := ratio (relop ratio)*            relop: = < > le ge ne approx in
#   ratio := union (':' union)*      union := expr ('\cup' expr)*
#   expr  := term (('+' | '-' | '\pm') term)*
#   term  := unary (('*' | '/')? power)*     (no operator = implicit multiplication)
#   unary := ('-' | '+' | '\pm') unary | power
#   power := postfix ('^' exponent)?         postfix := atom ('!' | '%' | deg | '_' sub | "'")*
_RELOPS = {'=', '<', '>', 'le', 'ge', 'ne', 'approx', 'in'}
_CONSTS = {'e': ('const', 'e'), 'i': ('const', 'i')}


class _Parser:
    def __init__(self, toks):
        self.toks, self.i, self.depth, self.abs_depth = toks, 0, 0, 0

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ('eof', None)

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def at(self, kind, value=None):
        t = self.peek()
        return t[0] == kind and (value is None or t[1] == value)

    def expect(self, kind, value=None):
        if not self.at(kind, value):
            raise ParseError(f'expected {value or kind}, found {self.peek()[1] or self.peek()[0]}')
        return self.next()

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError('answer is nested too deeply')

    def is_sep(self):
        return self.at('op', ',') or self.at('op', ';') or self.at('sep')

    def parse_list(self):
        items = [self.parse_item()]
        while self.is_sep():
            while self.is_sep():                               # ', and', 'and', ';'
                self.next()
            if self.at('eof') or self.at('op', ')') or self.at('op', ']') or self.at('op', '}') \
                    or self.at('op', '\\}'):
                break
            items.append(self.parse_item())
            if len(items) > 100:
                raise ParseError('too many items in a list')
        return items

    def parse_item(self):
        self.enter()
        if self.at('ellipsis'):
            self.next()
            self.depth -= 1
            return ('ellipsis',)
        if self.at('op', 'approx'):                            # '\approx 8.24': the value is what follows
            self.next()
        ops, xs = [], [self.parse_ratio()]
        while self.peek()[0] == 'op' and self.peek()[1] in _RELOPS:
            ops.append(self.next()[1])
            xs.append(self.parse_ratio())
        self.depth -= 1
        return ('rel', tuple(ops), tuple(xs)) if ops else xs[0]

    def parse_ratio(self):
        parts = [self.parse_union()]
        while self.at('op', ':'):
            self.next()
            parts.append(self.parse_union())
        return ('ratio', tuple(parts)) if len(parts) > 1 else parts[0]

    def parse_union(self):
        parts = [self.parse_expr()]
        while self.at('op', 'cup'):
            self.next()
            parts.append(self.parse_expr())
        return ('union', tuple(parts)) if len(parts) > 1 else parts[0]

    def parse_expr(self):
        terms = [self.parse_term()]
        while self.peek()[0] == 'op' and self.peek()[1] in ('+', '-', 'pm'):
            op = self.next()[1]
            t = self.parse_term()
            if op == 'pm':
                left = terms[0] if len(terms) == 1 else ('add', tuple(terms))
                terms = [('pm', left, t)]
            else:
                terms.append(t if op == '+' else ('neg', t))
        return terms[0] if len(terms) == 1 else ('add', tuple(terms))

    def starts_atom(self):
        k, v = self.peek()
        if k in ('num', 'id', 'word', 'begin', 'cmd'):
            return True
        return k == 'op' and (v in ('(', '[', '{', '\\{', 'lfloor', 'lceil') or (v == '|' and self.abs_depth == 0))

    def skip_units(self):
        """Drop trailing units: \\text{ cm}^2, dollars, \\mbox{ inches}."""
        while self.at('unit') or self.at('text'):
            self.next()
            if self.at('op', '^') and self.peek(1)[0] == 'num':
                self.i += 2                                    # cm^2
            elif self.at('op', '^') and self.peek(1) == ('op', '{') and self.peek(2)[0] == 'num' \
                    and self.peek(3) == ('op', '}'):
                self.i += 4                                    # cm^{2}

    def parse_term(self):
        factors = [self.parse_unary()]
        while True:
            self.skip_units()
            if self.at('op', '*'):
                self.next()
                factors.append(self.parse_unary())
            elif self.at('op', '/'):
                self.next()
                den = self.parse_unary()
                num = factors[0] if len(factors) == 1 else ('mul', tuple(factors))
                factors = [('div', num, den)]
            elif self.starts_atom():
                prev = factors[-1]
                f = self.parse_power()
                negative = prev[0] == 'neg' and _is_int_literal(prev[1])   # -4 4/9 = -(4 + 4/9)
                whole = prev[1] if negative else prev
                mixed = len(factors) == 1 and _is_int_literal(whole)
                if mixed and f[0] == 'div' and _is_int_literal(f[1]) and _is_int_literal(f[2]):
                    node = ('add', (whole, f))                 # mixed number 1\frac{4}{5} = 1 + 4/5
                elif mixed and _is_int_literal(f) and self.at('op', '/') and self.peek(1)[0] == 'num' \
                        and self.peek(1)[1][2] is not None:
                    self.next()                                # 1 1/2 = 1 + 1/2; a % after it is for all of it
                    node = self.parse_postfix_ops(('add', (whole, ('div', f, self.parse_atom()))))
                else:
                    factors.append(f)
                    continue
                factors = [('neg', node) if negative else node]
            else:
                break
        return factors[0] if len(factors) == 1 else ('mul', tuple(factors))

    def parse_unary(self):
        if self.at('op', '-'):
            self.next()
            self.enter()
            node = ('neg', self.parse_unary())
            self.depth -= 1
            return node
        if self.at('op', '+'):
            self.next()
            return self.parse_unary()
        if self.at('op', 'pm'):
            self.next()
            return ('pm', None, self.parse_unary())
        return self.parse_power()

    def parse_power(self):
        base = self.parse_postfix()
        if self.at('op', '^'):
            self.next()
            if self.at('deg') or (self.at('op', '{') and self.peek(1)[0] == 'deg' and self.peek(2) == ('op', '}')):
                self.i += 1 if self.at('deg') else 3           # 30^\circ, 30^{\circ}
                return self.parse_postfix_ops(('deg', base))
            if base[0] == 'sym' and (self.at('op', "'") or (self.at('op', '{') and self.peek(1) == ('op', "'"))):
                braced = self.at('op', '{')
                self.i += 1 + braced
                if braced:
                    self.expect('op', '}')
                return self.parse_postfix_ops(('sym', base[1] + "'"))   # y^{\prime} = y'
            exp = self.parse_exponent()
            return self.parse_postfix_ops(('pow', base, exp))
        return base

    def parse_exponent(self):
        """What follows '^': a {group}, a (group), a number, a name, or a signed one of those."""
        self.enter()
        if self.at('op', '-') or self.at('op', '+'):
            sign = self.next()[1]
            e = self.parse_exponent()
            node = ('neg', e) if sign == '-' else e
        elif self.at('op', '{'):
            self.next()
            node = self.parse_item()
            self.expect('op', '}')
        elif self.at('id'):
            name = self.next()[1]
            node = _CONSTS.get(name, ('sym', name))
        else:
            node = self.parse_postfix()
        if self.at('op', '^'):                                 # 2^3^2 = 2^(3^2)
            self.next()
            node = ('pow', node, self.parse_exponent())
        self.depth -= 1
        return node

    def parse_postfix(self):
        return self.parse_postfix_ops(self.parse_atom())

    def parse_postfix_ops(self, node):
        while True:
            if self.at('op', '!') and not (self.peek(1) == ('op', '=')):
                self.next()
                node = ('func', 'fact', (node,))
            elif self.at('pct'):
                self.next()
                node = ('pct', node)
            elif self.at('deg'):
                self.next()
                node = ('deg', node)
            elif self.at('op', "'") and node[0] == 'sym':
                self.next()
                node = ('sym', node[1] + "'")
            elif self.at('op', '_'):
                self.next()
                node = self.subscript(node)
            else:
                return node

    def subscript(self, node):
        if self.at('op', '{'):
            self.next()
            parts = []
            while not self.at('op', '}'):
                if self.at('eof') or len(parts) > 20:
                    raise ParseError('bad subscript')
                k, v = self.next()
                parts.append(_token_text(k, v))
            self.next()
            sub = ''.join(parts)
        else:
            k, v = self.next()
            if k not in ('num', 'id', 'word'):
                raise ParseError('bad subscript')
            sub = _token_text(k, v)
        if _is_int_literal(node) and sub.isdigit() and 2 <= int(sub) <= 36:   # 2516_8: a number in base 8
            return ('base', node[3], int(sub))
        if node[0] in ('sym', 'const'):
            return ('sym', f'{node[1]}_{sub}')
        raise ParseError('subscript on something that is not a name')

    def group_arg(self):
        """Argument of \\frac, \\sqrt, \\binom: a {group} or a single atom."""
        if self.at('op', '{'):
            self.next()
            self.enter()
            node = self.parse_item()
            self.depth -= 1
            self.expect('op', '}')
            return node
        return self.parse_atom()

    def parse_atom(self):
        k, v = self.next()
        if k == 'num':
            return ('num', v[0], v[1]) if v[2] is None else ('num', v[0], v[1], v[2])
        if k == 'id':
            return _CONSTS.get(v, ('sym', v))
        if k == 'word':
            return ('mul', tuple(_CONSTS.get(ch, ('sym', ch)) for ch in v))
        if k == 'text':
            return ('text', v)
        if k == 'cmd':
            return self.parse_command(v)
        if k == 'begin':
            return self.parse_matrix(v)
        if k == 'op' and v in ('(', '['):
            return self.parse_bracket(v)
        if k == 'op' and v in ('{', '\\{'):
            self.enter()
            items = [] if self.at('op', '}' if v == '{' else '\\}') else self.parse_list()
            self.expect('op', '}' if v == '{' else '\\}')
            self.depth -= 1
            if v == '{' and len(items) == 1:                   # a LaTeX group, not a set
                return items[0]
            return ('set', tuple(items))
        if k == 'op' and v == '|' and self.abs_depth == 0:
            self.abs_depth += 1
            self.enter()
            inner = self.parse_expr()
            self.expect('op', '|')
            self.abs_depth -= 1
            self.depth -= 1
            return ('func', 'abs', (inner,))
        if k == 'op' and v in ('lfloor', 'lceil'):
            self.enter()
            inner = self.parse_expr()
            self.expect('op', 'rfloor' if v == 'lfloor' else 'rceil')
            self.depth -= 1
            return ('func', 'floor' if v == 'lfloor' else 'ceil', (inner,))
        raise ParseError(f'unexpected {v if v is not None else k}')

    def parse_bracket(self, opener):
        self.enter()
        saved = self.abs_depth
        self.abs_depth = 0
        items = self.parse_list()
        self.abs_depth = saved
        closer = self.next()
        if closer[0] != 'op' or closer[1] not in (')', ']'):
            raise ParseError('unclosed bracket')
        self.depth -= 1
        if len(items) == 1 and opener + closer[1] in ('()', '[]'):
            return items[0]
        return ('seq', opener, closer[1], tuple(items))

    def parse_command(self, name):
        if name == 'pi':
            return ('const', 'pi')
        if name == 'infty':
            return ('const', 'inf')
        if name == 'emptyset':
            return ('set', ())
        if name == 'frac':
            return ('div', self.group_arg(), self.group_arg())
        if name == 'binom':
            return ('func', 'binom', (self.group_arg(), self.group_arg()))
        if name == 'sqrt':
            if self.at('op', '['):
                self.next()
                n = self.parse_expr()
                self.expect('op', ']')
                return ('func', 'root', (self.group_arg(), n))
            return ('func', 'sqrt', (self.group_arg(),))
        return self.parse_function(name)

    def parse_function(self, name):
        """\\sin x, \\sin(2x), \\sin^2 x, \\sin^{-1} x, \\log_2 8, \\ln x."""
        power, base = None, None
        if self.at('op', '^'):
            self.next()
            power = self.parse_exponent()
            if name in ('sin', 'cos', 'tan', 'cot') and power[0] == 'neg' and power[1][0] == 'num' \
                    and power[1][1] == 1:                      # \sin^{-1} x = arcsin x
                name, power = 'arc' + name, None
        if self.at('op', '_') and name in ('log', 'lg'):
            self.next()
            base = self.group_arg()
        if self.at('op', '(') or self.at('op', '{'):
            arg = self.parse_atom()
        else:                                                  # \sin 2x: numbers and names, no functions
            self.enter()
            factors = [self.parse_power()]
            while self.at('num') or self.at('id') or self.at('word'):
                factors.append(self.parse_power())
            self.depth -= 1
            arg = factors[0] if len(factors) == 1 else ('mul', tuple(factors))
        if arg[0] in ('seq', 'set', 'list'):
            raise ParseError(f'{name} takes one argument')
        if name in _TRIG:
            arg = _radians(arg)
        if name == 'lg':
            name, base = 'log', base or ('num', Fraction(10), False)
        node = ('func', name, (arg, base) if base is not None else (arg,))
        return ('pow', node, power) if power is not None else node

    def parse_matrix(self, env):
        if env not in ('pmatrix', 'bmatrix', 'matrix', 'vmatrix', 'Bmatrix', 'smallmatrix', 'array'):
            raise ParseError(f'unsupported environment {env}')
        self.enter()
        rows, row = [], [self.parse_item()]
        while not self.at('end', env):
            if self.at('amp'):
                self.next()
                row.append(self.parse_item())
            elif self.at('rowsep'):
                self.next()
                rows.append(tuple(row))
                row = [] if self.at('end', env) else [self.parse_item()]
            else:
                raise ParseError(f'unexpected {self.peek()[1] or self.peek()[0]} in a matrix')
            if len(rows) * max(len(row), 1) > 400:
                raise ParseError('matrix too large')
        self.next()
        self.depth -= 1
        if row:
            rows.append(tuple(row))
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            raise ParseError('matrix rows have different lengths')
        return ('matrix', tuple(rows))


def _token_text(k, v):
    if k == 'num':
        return v[2] if v[2] is not None else str(v[0])
    if k in ('id', 'word', 'cmd', 'op', 'text', 'unit'):
        return v
    raise ParseError('bad subscript')


_TRIG = {'sin', 'cos', 'tan', 'cot', 'sec', 'csc'}


def _radians(node):
    """Inside \\sin(...) a degree sign is a unit: 90^\\circ becomes 90 pi / 180 (elsewhere degrees are just numbers)."""
    if node[0] == 'deg':
        return ('div', ('mul', (node[1], ('const', 'pi'))), ('num', Fraction(180), False))
    if node[0] in ('add', 'mul'):
        return (node[0], tuple(_radians(c) for c in node[1]))
    if node[0] in ('neg', 'div', 'pow'):
        return (node[0],) + tuple(_radians(c) for c in node[1:])
    return node


def _is_int_literal(node):
    return node[0] == 'num' and len(node) == 4


def parse(s):
    """Parse one final answer (already cleaned) into a tree; raises ParseError or TooBig."""
    if len(s) > MAX_CHARS:
        raise ParseError(f'answer longer than {MAX_CHARS} characters')
    toks = tokenize(s)
    if not toks:
        raise ParseError('empty answer')
    p = _Parser(toks)
    items = p.parse_list()
    if not p.at('eof'):
        raise ParseError(f'unexpected {p.peek()[1] or p.peek()[0]}')
    return items[0] if len(items) == 1 else ('list', tuple(items))
