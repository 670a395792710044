"""The verdict on one sandbox run, reached in this process from the values the child sent back.

The child writes one JSON record per step of the plan (sandbox_plan.py); read_records checks that they are the
expected sequence, and verdict turns them into a status and a one-line detail. An assert is evaluated HERE
(evaluate) with the real operators and builtins; only its leaves come from the child, decoded as plain data
(None, bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset), so an object whose __eq__
always says True, or a forged record, cannot turn a wrong answer into a pass.

    passed   every test ran and held          failed   an assert was false, or a leaf was not a plain value
    error    an exception, exit(), a test the parent refuses to judge, a garbled results channel
    memory   MemoryError (the rlimit)         timeout  wall clock or CPU limit       crashed  killed by a signal

No command line of its own: `python judge/sandbox.py` runs one example of each status.
"""
import ast
import json
import operator
import signal

from .sandbox_plan import BUILTINS, MODULES, Plan

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
        return BUILTINS[node.id]
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
        return ev(node.func)(*[ev(a) for a in node.args], **{k.arg: ev(k.value) for k in node.keywords})
    if isinstance(node, ast.Subscript):
        return ev(node.value)[ev(node.slice)]
    if isinstance(node, ast.Slice):
        return slice(*(None if n is None else ev(n) for n in (node.lower, node.upper, node.step)))
    if isinstance(node, ast.IfExp):
        return ev(node.body) if ev(node.test) else ev(node.orelse)
    raise TypeError(f"cannot evaluate {type(node).__name__}")  # unreachable: sandbox_plan made it a leaf


_NOT_A_LEAF = object()


def _binary(op: ast.operator, a, b):
    """a <op> b, refusing the few that could make this process allocate without bound."""
    big = (isinstance(op, ast.Pow) and isinstance(a, int) and isinstance(b, int) and a.bit_length() * b > 10**6
           or isinstance(op, ast.LShift) and isinstance(b, int) and b > 10**6
           or isinstance(op, ast.Mult) and any(isinstance(s, (str, bytes, list, tuple)) and isinstance(n, int)
                                               and len(s) * n > 10**7 for s, n in ((a, b), (b, a)))
           or isinstance(op, ast.Mod) and isinstance(a, (str, bytes)))
    if big:
        raise OverflowError("an operation too large to evaluate in the judge")
    return BINARY[type(op)](a, b)


def decode(x, depth: int = 0):
    """The plain value a child sent (the inverse of sandbox_child.encode); ValueError when malformed."""
    if depth > 101:
        raise ValueError("nested too deeply")
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) is list:
        return [decode(v, depth + 1) for v in x]
    if type(x) is dict and len(x) == 1:
        (tag, body), = x.items()
        if tag == "bytes" and type(body) is str:
            return bytes.fromhex(body)
        if tag == "complex" and type(body) is list and len(body) == 2 and all(type(v) is float for v in body):
            return complex(*body)
        if type(body) is list and tag == "dict":
            return {decode(k, depth + 1): decode(v, depth + 1) for k, v in body}
        if type(body) is list and tag in ("tuple", "set", "frozenset", "iter"):
            items = [decode(v, depth + 1) for v in body]
            return iter(items) if tag == "iter" else {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
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


def read_records(path: str, steps: list, limit: int):
    """(layers, records) from the results file; records is None when the lines are not the expected sequence."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return None, []
    lines = data.split(b"\n")[:-1]  # a last line without "\n" was cut off mid-write
    try:
        layers = json.loads(lines[0]) if lines else None
        records = [json.loads(line) for line in lines[1:]]
    except (ValueError, RecursionError):
        return None, None
    if not (layers is None or type(layers) is list and all(type(x) is str for x in layers)):
        return None, None  # the program truncated the file and wrote its own first line
    for i, r in enumerate(records):
        if not (type(r) is list and len(r) >= 2 and r[0] == i and i < len(steps)):
            return layers, None
        shapes = {"ok": 2, "error": 4} if steps[i][0] == "exec" else {"value": 3, "opaque": 3, "error": 4}
        if shapes.get(r[1]) != len(r) or (r[1] != "value" and not all(type(x) is str for x in r[2:])):
            return layers, None
    return layers, records
