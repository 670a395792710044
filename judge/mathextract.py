"""mathextract: where is the final answer in a model's text?

    extract_answer(text)          -> str | None    the committed final answer; None means "no answer"
    extract_choice(text, labels)  -> str | None    the chosen option label (ARC, MMLU-STEM, GPQA)
    answer_text(s)                -> str           what is_equiv reads from each of its two arguments

extract_answer, in order: the last complete \\boxed{...} or \\fbox{...} (nested braces; also '\\boxed 5'); boxes
joined to it by ',', ';', 'and' or nothing but spaces are read together as a list ('\\boxed{1} and \\boxed{-2}'
-> '1, -2'), boxes joined by 'or' are not (that usually offers one answer twice: '\\boxed{15\\frac{39}{40}} or
\\boxed{\\frac{639}{40}}'); an empty box is skipped. Else the text after the last GSM8K '####'. Else the rest of
the sentence after the last 'answer is' / 'answer:' ('The final answer is $28\\%$. I hope...' -> '28\\%'). Else
None: there is deliberately no "last number in the text" fallback, which would reward answers never committed to.

answer_text reads an is_equiv argument the same way when it holds a box, '####' or 'answer is'; prose with math
in it ('The identity matrix is $I$.') is read as its last math span; a bare answer is returned as it is.
Every search is bounded (the tail of the text, MAX_BOX_CHARS per box), so a huge or hostile text costs little.
"""
import re

from . import mathparse as mp

MAX_BOX_CHARS = 2000       # a \boxed{...} longer than this is not an answer

_BOX_START = re.compile(r'\\(?:boxed|fbox)\s*(\{)|\\boxed\s+(?=[^\s{])')
_CONNECTIVE = re.compile(r'(?:\s|\$|\\[()\[\],;]|\\q?quad|[.,;]|and|\\text\{\s*(?:and|,)?\s*\})*')
_HASHES = re.compile(r'####\s*([^\n]*)')
_ANSWER_IS = re.compile(r'answer\s*(?:is|:)\s*[:*]*', re.I)
_MATH_SPAN = re.compile(r'\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]', re.S)


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


def answer_text(s):
    """The answer inside one is_equiv argument: a box or 'answer is' if there is one; in prose with math
    ('The identity matrix is $I$.'), the last math span. Raises ParseError for an answer beyond MAX_CHARS."""
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
