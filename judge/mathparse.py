"""mathparse: a small, safe parser for final answers written in LaTeX or plain math.

    tree = parse(clean(r'\\frac{1}{2} \\pm \\sqrt{3}'))   # ('pm', ('div', ...), ('func', 'sqrt', ...))

Why not sympify / latex2sympy? They run eval() on (a rewrite of) their input, and sympy evaluates eagerly, so an
answer could run Python or 9^{9^{9^{9}}} hang the trainer. Here tokens (mathlex.py) become a tree of plain tuples
(they pickle to the sympy worker and hash for caching) by recursive descent; nothing is evaluated, and the caps
MAX_CHARS, mathlex.MAX_TOKENS and MAX_DEPTH are checked before anything is built. Nodes:
    ('num', Fraction, is_decimal[, digits])   ('sym', name)   ('const', 'pi' | 'e' | 'i' | 'inf')   ('text', words)
    ('add', terms) ('mul', factors) ('neg', x) ('div', a, b) ('pow', a, b) ('func', name, args) ('ellipsis',)
    ('pm', a, b) a +- b (a None: +-b)   ('pct', x) x%   ('deg', x) x degrees   ('base', digits, b) 2516_8
    ('seq', open, close, items) (1,2) [0,1)   ('set', items)   ('list', items) 1, 2 and 3   ('matrix', rows)
    ('union', parts)   ('ratio', parts) 7:32   ('rel', ops, operands) x = 2, 0 < x \\le 1, x \\in [0,1]
Reading conventions (mathjudge.py builds the equivalence policy on them):
  - e is Euler's number, i the imaginary unit; juxtaposition multiplies (f(x) is f*x, xy is x*y, 2\\pi r)
  - 2^10 is 2^{10} (the plain-math reading, not LaTeX's 2^1 0); 2^3^2 = 2^(3^2)
  - an integer before \\frac{int}{int} or int/int is a mixed number: 1\\frac{4}{5} = 1 4/5 = 9/5
  - inside \\sin(...) etc. a degree sign converts to radians (\\sin 90^\\circ = 1); elsewhere it is only a mark
  - '1,000' (outside brackets), '1 000', '1\\,000', '1{,}000' are thousands; a comma is never a decimal point
  - 1.5e3 is scientific notation; 0.1\\overline{6} is the repeating decimal 1/6
  - trailing units are dropped: \\text{...}, \\mbox{...}, unit words (cm, dollars), a word of 3+ letters after a
    number and the words after it ('5 apples', '3 days per week'); 10cm is 10*c*m, 10 cm is 10
"""
from fractions import Fraction

# re-exported: the judge uses mathparse only
from .mathlex import INFINITY_WORDS, ParseError, TooBig, clean, tokenize  # noqa: F401

MAX_CHARS = 1000       # longer final answers are not judged (a box holds an answer, not an essay)
MAX_DEPTH = 40         # brackets, braces, exponents and fractions nested deeper than this are refused


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
    """Inside \\sin(...) a degree sign is a unit: 90^\\circ becomes 90 pi / 180 (elsewhere degrees are only marks)."""
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
