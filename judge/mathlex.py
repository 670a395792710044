"""mathlex: the first half of reading a final answer, text -> tokens (mathparse.py does tokens -> tree).

    tokens = tokenize(clean(r'\\$1{,}000.5 \\text{ cm}'))
    # [('num', (Fraction(2001, 2), True, None)), ('unit', 'cm')]

clean() rewrites notation that does not change meaning with linear-time regexes: unicode symbols (\u221a, \u03c0,
\u2264, ...), '$' and \\( \\) \\[ \\] delimiters, \\dfrac and \\tfrac, \\frac12 and \\frac{270}7, LaTeX thousands
separators ({,} and ,\\!), doubled backslashes (an answer escaped twice over), sentence punctuation at the end.
tokenize() then cuts the text into (kind, value) pairs:

    num (Fraction, is_decimal, digits)   1,000  .5  3e6  0.1\\overline{6}   (digits: the literal of an integer)
    id name      x, \\alpha, \\mathbf{v}       word letters   xy (a product, unless it is a unit)
    cmd name     \\frac \\sqrt \\sin \\pi \\infty   op symbol     + - * / ^ _ ! = < > | ( ) [ ] { } \\{ \\} , ; : le
    text words   \\text{Evelyn}               sep word       and, or, \\text{ and }
    unit word    cm, dollars; a word of 3+ letters after a number ('5 apples') and every word after a unit
    pct, deg, ellipsis, rowsep (\\\\), amp (&), begin env, end env

Nothing is evaluated; the number of tokens is capped (MAX_TOKENS) and an unknown command or character raises
ParseError, so odd input fails early and cheaply.
"""
import re
from fractions import Fraction

MAX_TOKENS = 600


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
INFINITY_WORDS = ('inf', 'infinity', 'oo')   # words read as \infty ('oo': how sympy and Python-minded models write it)


def _word_token(w):
    lw = w.lower()
    if lw in ('and', 'or'):
        return ('sep', lw)
    if lw in ('percent', 'pct', 'percentage'):
        return ('pct', None)
    if lw in ('degree', 'degrees', 'deg'):
        return ('deg', None)
    if lw in FUNCS or lw in ('pi', 'infty'):
        return ('cmd', lw)
    if lw in INFINITY_WORDS:
        return ('cmd', 'infty')
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
            elif tok[0] == 'word' and s[i - 1].isspace() and toks and toks[-1][0] == 'unit':
                tok = ('unit', w.lower())                      # and so is the next: '3 days per week'
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
    if low in INFINITY_WORDS:                                 # \text{infinity}
        return [('cmd', 'infty')]
    return [('text', ' '.join(words))]
