"""The verdict on one sandbox run, reached in this process from the values the child sent back.

The child writes one JSON record per step of the plan (sandbox_plan.py); read_records checks that they are the
expected sequence, and verdict turns them into a status and a one-line detail. An assert is evaluated HERE
(evaluate) with the real operators and builtins; only its leaves come from the child, decoded as plain data
(None, bool, int, float, complex, str, bytes, bytearray, range, list, tuple, dict, set, frozenset, and the
standard library's deque, Fraction and Decimal), so an object whose __eq__ always says True, or a forged
record, cannot turn a wrong answer into a pass.

Reading the values is bounded too, since the program chooses them: at most RESULTS_BYTES of results and
VALUE_BYTES per value are parsed (ints of at most DIGITS digits), and no container may hold more than COLLISIONS
different values with one hash (a set of colliding ints costs quadratic time to build), checked before
anything here hashes them: in decode, and for set(), frozenset(), dict() and set methods applied here. A range
longer than MAX_ITEMS, a Decimal or Fraction string beyond DIGITS digits, bytearray(n) and powers too large
are refused (status error).

    passed   every test ran and held          failed   an assert was false, or a leaf was not a plain value
    error    an exception, exit(), a test the parent refuses to judge, a garbled results channel
    memory   MemoryError (the rlimit)         timeout  wall clock or CPU limit       crashed  killed by a signal

No command line of its own: `python -m judge sandbox` runs one example of each status.
"""
import ast
import collections
import decimal
import fractions
import json
import operator
import re
import signal

from .sandbox_plan import MODULES, NAMES, Plan

# ----------------------------------------------------------------------------- bounds on the work done here
# The child's values are untrusted data, and reading them is work done in THIS process. Unbounded, a program
# could make the judge spend minutes or gigabytes on one answer, so:
VALUE_BYTES = 2**18    # one value's JSON line (MBPP's largest is 2.6 kB): a longer one is an error, never parsed
RESULTS_BYTES = 2**20  # the results file read in all; parsed JSON takes at most ~30 times its size in memory
COLLISIONS = 16        # distinct values in one container that may share a hash (honest data: one, rarely two)
MAX_ITEMS = 100_000    # the longest range, bytearray(n) or iterator this process expands (as the child's limit)
DIGITS = 4300          # Python's limit on int <-> str: no int, Fraction part or Decimal beyond it is made here
# Why COLLISIONS: int, float, complex and tuple hash alike in every process (only str and bytes are salted), so a
# program can send 100,000 ints that are equal mod 2**61 - 1. A set of them costs n**2 / 2 comparisons to build:
# 68 s for 100,000. Each container is checked in linear time (_check_hashes) before anything here hashes it.

# ----------------------------------------------------------------------------- evaluating an assert here

# the operators of an assert, applied in this process to plain values (see _binary for the few refused)
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.LShift: operator.lshift,
          ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor}
UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


class _ChildAnswer(Exception):
    """A leaf whose value cannot be used: the child raised, sent something opaque, or never answered."""


def evaluate(node: ast.AST, ask):
    """The value of an asserted expression, computed here; ask(leaf) gives the child's value of a leaf."""
    value = ask(node)
    if value is not _NOT_A_LEAF:
        return value
    ev = lambda n: evaluate(n, ask)  # noqa: E731
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return NAMES[node.id]
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id in MODULES:
            return MODULES[node.value.id][node.attr]
        return getattr(ev(node.value), node.attr)  # a METHOD of a plain value
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](ev(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return {ev(k): ev(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](ev(node.operand))
    if isinstance(node, ast.BinOp):
        return _binary(node.op, ev(node.left), ev(node.right))
    if isinstance(node, ast.BoolOp):  # short-circuit, like Python: a leaf that is not needed is not used
        for part in node.values:
            value = ev(part)
            if bool(value) != isinstance(node.op, ast.And):
                break
        return value
    if isinstance(node, ast.Compare):
        left = ev(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = ev(right_node)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        return _call(ev(node.func), [ev(a) for a in node.args], {k.arg: ev(k.value) for k in node.keywords})
    if isinstance(node, ast.Subscript):
        return ev(node.value)[ev(node.slice)]
    if isinstance(node, ast.Slice):
        return slice(*(None if n is None else ev(n) for n in (node.lower, node.upper, node.step)))
    if isinstance(node, ast.IfExp):
        return ev(node.body) if ev(node.test) else ev(node.orelse)
    raise TypeError(f"cannot evaluate {type(node).__name__}")  # unreachable: sandbox_plan made it a leaf


_NOT_A_LEAF = object()
HASHING = (set, frozenset, dict)  # builtins that hash the items of their argument


def _call(func, args: list, kwargs: dict):
    """func(*args, **kwargs); first, what set(), frozenset(), dict() or a set's method (union, issubset, ...) would
    hash is checked: a container decoded from the child was, but one made here (zip's pairs, a + b) was not."""
    if any(func is h for h in HASHING) or type(getattr(func, "__self__", None)) in (set, frozenset):
        args = [_hashable_items(a, keys_of_pairs=func is dict) for a in args]
    if func is bytearray and args and isinstance(args[0], int) and args[0] > MAX_ITEMS:
        raise OverflowError(f"bytearray({args[0]}) is too large to make in the judge")
    if func is fractions.Fraction and args and isinstance(args[0], str):  # Fraction('1e999999999'): 10**999999999
        exponent = re.search(r"[eE]\s*([-+]?[\d_]+)", args[0])
        if exponent and abs(int(exponent[1])) > DIGITS:
            raise OverflowError("a Fraction too large to make in the judge")
    result = func(*args, **kwargs)
    if func is range:
        _check_range(result)
    if func is decimal.Decimal:
        _check_decimal(result)
    return result


def _check_range(r: range) -> range:
    """A range is lazy, but list(r), sum(r) or 'a' in r walk it: refuse one longer than MAX_ITEMS."""
    try:
        n = len(r)
    except OverflowError:  # longer than sys.maxsize
        n = MAX_ITEMS + 1
    if n > MAX_ITEMS:
        raise ValueError(f"a range of more than {MAX_ITEMS:,} items: too long to judge")
    return r


def _check_decimal(d: decimal.Decimal) -> decimal.Decimal:
    """int(Decimal('1e999999999')) would be a billion digits: refuse more than DIGITS of them before the point."""
    if d.is_finite() and (d.adjusted() > DIGITS or len(d.as_tuple().digits) > DIGITS):
        raise ValueError(f"a Decimal of more than {DIGITS} digits: too large to judge")
    return d


def _hashable_items(value, keys_of_pairs: bool = False):
    """`value` as a list whose items (or, for dict(), the pairs' keys) passed _check_hashes; str, bytes and what
    was already checked (sets, dicts) as they are; a value that is not iterable as it is, for func to refuse."""
    if isinstance(value, (str, bytes, bytearray, set, frozenset, dict)):
        return value
    try:
        items = list(value)
    except TypeError:
        return value
    _check_hashes([i[0] if keys_of_pairs and isinstance(i, (tuple, list)) and len(i) == 2 else i for i in items],
                  "collection")
    return items


def _check_hashes(items, what: str) -> None:
    """ValueError when more than COLLISIONS different values among `items` share a hash. Linear time: values are
    grouped by their hash in a dict keyed by that hash, an int below 2**61 whose own hash is itself, so the
    grouping dict has no full collisions of its own; equal values (a list of repeats) count once."""
    by_hash = {}
    for item in items:
        try:
            h = hash(item)
        except TypeError:
            continue  # a list or a dict: it can be no set's member and no dict's key
        same = by_hash.setdefault(h, [])
        if not any(item == other for other in same):  # at most COLLISIONS comparisons per item
            same.append(item)
            if len(same) > COLLISIONS:
                raise ValueError(f"more than {COLLISIONS} different values with the same hash in one {what}: "
                                 "refused (hashing them here would take time quadratic in their number)")


def _binary(op: ast.operator, a, b):
    """a <op> b, refusing the few that could make this process allocate without bound."""
    sequences = (str, bytes, bytearray, list, tuple, collections.deque)
    big = (isinstance(op, ast.Pow) and _huge_power(a, b)
           or isinstance(op, ast.LShift) and isinstance(b, int) and b > 10**6
           or isinstance(op, ast.Mult) and any(isinstance(s, sequences) and isinstance(n, int)
                                               and len(s) * n > 10**7 for s, n in ((a, b), (b, a)))
           or isinstance(op, ast.Mod) and isinstance(a, (str, bytes, bytearray)))
    if big:
        raise OverflowError("an operation too large to evaluate in the judge")
    if isinstance(op, (ast.BitOr, ast.BitAnd, ast.BitXor, ast.Sub)):  # d.items() | x builds a set of new pairs
        for side in (a, b):
            if isinstance(side, type({}.items())):
                _check_hashes(side, "dict's items")
    return BINARY[type(op)](a, b)


def _huge_power(a, b) -> bool:
    """Would a ** b be an int or Fraction of more than a million bits? (A float or Decimal power is bounded.)"""
    if isinstance(b, fractions.Fraction) and b.denominator == 1:
        b = b.numerator  # 2 ** Fraction(10**9) is 2 ** 10**9
    if not isinstance(b, int) or not isinstance(a, (int, fractions.Fraction)) or isinstance(a, int) and b < 0:
        return False  # int ** -n is a float
    return max(a.numerator.bit_length(), a.denominator.bit_length()) * abs(b) > 10**6


def decode(x, depth: int = 0):
    """The plain value a child sent (the inverse of sandbox_child.encode); ValueError when malformed."""
    if depth > 101:
        raise ValueError("nested too deeply")
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) is list:
        items = [decode(v, depth + 1) for v in x]
        _check_hashes(items, "list")  # the assert may make a set of it: set(f(x)) == {1, 2}
        return items
    if type(x) is dict and len(x) == 1:
        (tag, body), = x.items()
        if tag in ("bytes", "bytearray") and type(body) is str:
            return bytes.fromhex(body) if tag == "bytes" else bytearray.fromhex(body)
        if tag == "range" and type(body) is list and len(body) == 3 and all(type(v) is int for v in body):
            return _check_range(range(*body))  # ValueError for a step of 0
        if tag == "fraction" and type(body) is list and len(body) == 2 and all(type(v) is int for v in body):
            return fractions.Fraction(*body)  # ZeroDivisionError for a denominator of 0
        if tag == "decimal" and type(body) is str:
            try:
                return _check_decimal(decimal.Decimal(body))
            except ArithmeticError:  # decimal.InvalidOperation: not a number
                raise ValueError(f"not a Decimal: {body[:80]}") from None
        if tag == "complex" and type(body) is list and len(body) == 2 and all(type(v) is float for v in body):
            return complex(*body)
        if type(body) is list and tag == "dict":
            pairs = [(decode(k, depth + 1), decode(v, depth + 1)) for k, v in body]
            _check_hashes([k for k, _ in pairs], "dict's keys")
            return dict(pairs)
        if type(body) is list and tag in ("tuple", "set", "frozenset", "iter", "deque"):
            items = [decode(v, depth + 1) for v in body]
            _check_hashes(items, tag)
            return iter(items) if tag == "iter" else {"tuple": tuple, "set": set, "frozenset": frozenset,
                                                      "deque": collections.deque}[tag](items)
    raise ValueError(f"not a plain value: {str(x)[:80]}")


# ----------------------------------------------------------------------------- judging

def verdict(plan: Plan, records: list, finished: bool, returncode: int, timeout: float) -> tuple[str, str]:
    """(status, detail) of a run: a time-out, else the first step that went wrong, else "passed"."""
    if not finished:
        return "timeout", f"still running after {timeout:g} s wall clock; killed"
    if records is None:
        return "error", "the results channel was garbled (the program wrote into it)"

    def died(where):
        if returncode < 0:
            if -returncode == signal.SIGXCPU:
                return "timeout", "CPU time limit (RLIMIT_CPU) exceeded"
            try:
                name = signal.Signals(-returncode).name
            except ValueError:
                name = f"signal {-returncode}"
            return "crashed", f"killed by {name} while running {where}"
        return "error", f"exited with code {returncode} while running {where}, before the tests finished"

    def raised(record, where):
        kind, message = record[2], record[3]
        if kind == "MemoryError":
            return "memory", f"MemoryError in {where} (limit reached)"
        if kind == "SystemExit":
            return "error", f"{where} called exit({message}) before the tests finished"
        return "error", f"{kind} in {where}: {message}"[:300]

    for step, where in ((0, "the code"), (1, "the test setup")):
        if step >= len(records):
            return died(where)
        if records[step][1] == "error":
            return raised(records[step], where)
    if plan.problem:
        return "error", plan.problem
    for where, items in plan.tests:
        for item in items:
            if item[0] == "exec":
                if item[1] >= len(records):
                    return died(where)
                record = records[item[1]]
                if record[1] == "error":
                    if record[2] == "AssertionError":
                        return "failed", f"{where} failed: {_short(item[2])}"
                    return raised(record, where)
                continue
            _, node, steps, source = item
            answers = {}

            def ask(n):
                if n not in steps:
                    return _NOT_A_LEAF
                if steps[n] >= len(records):
                    raise _ChildAnswer("died")
                record = records[steps[n]]
                if record[1] == "value":
                    answers[n] = decode(record[2])
                    return answers[n]
                raise _ChildAnswer(record)

            try:
                held = bool(evaluate(node, ask))
            except _ChildAnswer as e:
                record = e.args[0]
                if record == "died":
                    return died(where)
                if record[1] == "opaque":
                    leaf = next(n for n, step in steps.items() if step == record[0])
                    return "failed", (f"{where} failed: {_short(source)} ({_short(ast.unparse(leaf))}: "
                                      f"a {record[2]} is not a plain value)")
                return raised(record, where)
            except Exception as e:  # noqa: BLE001 - a TypeError comparing, a malformed value, ...
                return "error", f"{type(e).__name__} in {where}: {e}"[:300]
            if not held:
                got = "".join(f" ({_short(ast.unparse(n))} " + ("is falsy)" if plan.steps[steps[n]][0] == "truth"
                                                                 else f"returned {_short(repr(v))})")
                              for n, v in list(answers.items())[:1])
                return "failed", f"{where} failed: {_short(source)}{got}"
    return "passed", f"{len(plan.tests)} tests passed"


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def read_records(path: str, steps: list):
    """(layers, records) from the results file; records is None when the lines are not the expected sequence.

    At most RESULTS_BYTES are read. A line longer than VALUE_BYTES is not parsed: its record becomes an
    OverflowError, and so does the first record missing because the file was longer than RESULTS_BYTES.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(RESULTS_BYTES + 1)
    except OSError:
        return None, []
    lines = data[:RESULTS_BYTES].split(b"\n")[:-1]  # a last line without "\n" was cut off mid-write (or here)
    if lines and len(lines[0]) > VALUE_BYTES:
        return None, None  # the child's first line is short: the program wrote this one
    try:
        layers = json.loads(lines[0], parse_int=_parse_int) if lines else None
        records = [[i, "error", "OverflowError", f"the value takes {len(line):,} bytes as JSON; the judge reads "
                    f"at most {VALUE_BYTES:,}"] if len(line) > VALUE_BYTES else json.loads(line, parse_int=_parse_int)
                   for i, line in enumerate(lines[1:])]
    except (ValueError, RecursionError):
        return None, None
    if len(data) > RESULTS_BYTES and lines and len(records) < len(steps):
        records.append([len(records), "error", "OverflowError",
                        f"the values sent back take more than the judge's limit of {RESULTS_BYTES:,} bytes"])
    if not (layers is None or type(layers) is list and all(type(x) is str for x in layers)):
        return None, None  # the program truncated the file and wrote its own first line
    for i, r in enumerate(records):
        if not (type(r) is list and len(r) >= 2 and r[0] == i and i < len(steps)):
            return layers, None
        shapes = {"ok": 2, "error": 4} if steps[i][0] == "exec" else {"value": 3, "opaque": 3, "error": 4}
        if shapes.get(r[1]) != len(r) or (r[1] != "value" and not all(type(x) is str for x in r[2:])):
            return layers, None
    return layers, records


def _parse_int(digits: str) -> int:
    """json.loads' int(): turning n digits into an int takes time quadratic in n. Python refuses more than DIGITS
    unless something in this process turned the limit off (sys.set_int_max_str_digits(0)); here it holds anyway."""
    if len(digits) > DIGITS + (digits[:1] == "-"):
        raise ValueError(f"an int of {len(digits):,} digits")
    return int(digits)
