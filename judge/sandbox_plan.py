"""Which parts of an MBPP assert the sandboxed child computes, and which this process evaluates itself.

The child (sandbox_child.py) runs the untrusted program, so it only ever sends back values; the verdict is reached
here (sandbox_verdict.py). make_plan turns a job into the child's steps: the code, the setup, every test statement
that is not an assert, and the "leaves" of each assert, the maximal parts that need the program (`f(3)`, a name
it defines). The rest of an assert (constants, operators, comparisons, the builtins in BUILTINS, math.*, METHODS
of plain values, imported Fraction, Decimal, deque) is evaluated in this process with the real builtins, so no
program can fake a pass. The policy in full, and what is refused: make_plan's docstring.

Use:
    plan = make_plan("def f(x):\n    return x\n", "", ["assert abs(f(2) - 2) < 1e-9"])
    plan.steps   # [..., ['eval', 'test 1/1', 'f(2)']]: the child evaluates f(2); abs, -, < are applied here
No command line of its own: `python -m judge sandbox` runs one example of each status.
"""
import ast
import builtins
import collections
import decimal
import fractions
import math
import sys
import threading
import warnings
from dataclasses import dataclass

_quiet = threading.Lock()  # warnings.catch_warnings is not thread-safe, and run_batch plans from threads

# Names an assert may use that mean the real builtins here (unless the program defines them, like MBPP
# task 126's `sum`). Nothing here allocates without bound on small input: no bytes, pow, factorial; range
# and bytearray are checked for size where they are called (sandbox_verdict._call).
BUILTINS = {f.__name__: f for f in (abs, all, any, bool, bytearray, chr, complex, dict, divmod, enumerate, float,
                                     frozenset, int, isinstance, len, list, max, min, ord, range, repr, reversed,
                                     round, set, sorted, str, sum, tuple, type, zip)}
# Standard-library classes an assert may name once a test (or the program) imports them as `from module import
# name`: they mean the real class here too, so that `f() == Fraction(1, 3)` is not computed by the child, where
# the program could have patched Fraction to return its own answer. Under another name (`as F`) they are leaves.
IMPORTS = {("fractions", "Fraction"): fractions.Fraction, ("decimal", "Decimal"): decimal.Decimal,
           ("collections", "deque"): collections.deque}
NAMES = {**BUILTINS, **{name: cls for (_, name), cls in IMPORTS.items()}}  # every name the parent evaluates
MODULES = {"math": {n: getattr(math, n) for n in ("isclose", "sqrt", "floor", "ceil", "fabs", "trunc", "exp", "log",
                                                  "log2", "log10", "pow", "sin", "cos", "tan", "atan", "atan2",
                                                  "hypot", "isnan", "isinf", "isfinite", "pi", "e", "tau", "inf",
                                                  "nan")},
           "sys": {"getsizeof": sys.getsizeof}}  # MBPP: of literals only (a list's spare capacity does not travel)
# methods (and attributes) the parent applies itself to a computed plain value: f(x).startswith("a") is
# checked here, while stack.get(0) or os.environ.get("X") (a method of a program's object) is a leaf
METHODS = {"count", "index", "startswith", "endswith", "find", "rfind", "lower", "upper", "strip", "lstrip",
           "rstrip", "split", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "keys", "values",
           "items", "get", "issubset", "issuperset", "isdisjoint", "union", "intersection", "difference", "real",
           "imag"}
PYTHON_NAMES = set(dir(builtins)) | set(MODULES)
# builtins through which an expression reads the program's state; the others compute from their arguments
STATEFUL = {"open", "globals", "locals", "vars", "dir", "getattr", "hasattr", "eval", "exec", "__import__", "id"}
SIMPLE = (ast.Constant, ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.Subscript, ast.Slice, ast.IfExp)


@dataclass
class Plan:
    steps: list   # [kind, where, source] for the child: the code, the setup, then the tests' parts
    tests: list   # per test: (where, items); item = ("exec", step, source) | ("assert", node, {leaf: step}, source)
    problem: str = ""  # a test the parent cannot judge safely: the run ends in "error" with this detail


def make_plan(code: str, setup: str, tests: list[str]) -> Plan:
    """Split each test into what the child computes and what the parent checks.

    Policy, for each top-level statement of a test:
      assert E         E is evaluated HERE: constants, operators, comparisons, and/or/not, builtins in
                       BUILTINS, math.*, sys.getsizeof, METHODS of plain values, and Fraction, Decimal
                       and deque where imported as such (IMPORTS). Each maximal part that
                       needs the program (a call to or name of something it or the setup defines) is a
                       "leaf": the child evaluates it and sends its plain value. `abs(f(x) - 1.5) < 1e-9`,
                       `math.isclose(f(x), 1.5)`, `set(f(x)) == set([1, 2])` are thus computed here with the
                       real abs/isclose/set. Where only a leaf's truth matters (`assert f(x)`, `not f(x)`)
                       the child sends bool(value): a program could return True there anyway, and a
                       truthy re.Match is fine.
      other statement  executed by the child (import, x = ...); raising counts against the test.
    Refused (status "error"): an assert inside a loop or function (the child would judge it), a leaf
    that needs no program name (a comprehension building the expected value: the child could fake it),
    and a builtin the program redefines (`def abs`) wrapped around the program's results. A program
    that defines a builtin's name and is called by it (MBPP task 126 defines `sum`) is fine.
    """
    defined = set().union(*(_bound_names(s) for s in (code, setup, *tests)))
    trusted = (set(NAMES) | set(MODULES)) - defined
    plan = Plan([["exec", "the code", code], ["exec", "the test setup", setup]], [])
    for k, test in enumerate(tests):
        where = f"test {k + 1}/{len(tests)}"
        try:
            body = ast.parse(test).body
        except Exception as e:  # noqa: BLE001
            return Plan(plan.steps, plan.tests, f"bad test: {type(e).__name__} in {where}: {e}"[:300])
        items = []
        for stmt in body:
            source = ast.get_source_segment(test, stmt) or ast.unparse(stmt)
            if not isinstance(stmt, ast.Assert):
                if any(isinstance(n, ast.Assert) for n in ast.walk(stmt)):
                    return Plan(plan.steps, plan.tests, f"bad test: {where} has an assert inside a block; "
                                                         "only top-level asserts can be judged by the parent")
                items.append(("exec", len(plan.steps), source))
                plan.steps.append(["exec", where, source])
                continue
            leaves = _leaves(stmt.test, trusted, True)
            for leaf, _ in leaves:  # the names in it through which it reads the program
                names = {n for n in _free_names(leaf) if n in defined | STATEFUL or n not in PYTHON_NAMES}
                if not names:
                    return Plan(plan.steps, plan.tests, f"bad test: {where}: `{ast.unparse(leaf)}` reads nothing "
                                                         "of the program and the parent cannot compute it; "
                                                         "write the expected value out")
                root = leaf.func if isinstance(leaf, ast.Call) else leaf
                root = root.value if isinstance(root, ast.Attribute) else root
                if isinstance(root, ast.Name) and root.id in defined & PYTHON_NAMES and names - {root.id}:
                    return Plan(plan.steps, plan.tests, f"bad test: the program redefines `{root.id}`, which "
                                                         f"{where} applies to the program's results")
            steps = {leaf: len(plan.steps) + i for i, (leaf, _) in enumerate(leaves)}  # leaf -> its step number
            items.append(("assert", stmt.test, steps, source))
            plan.steps += [["truth" if truth else "eval", where, ast.unparse(leaf)] for leaf, truth in leaves]
        plan.tests.append((where, items))
    return plan


def _bound_names(source: str) -> set[str]:
    """Names a piece of code binds at module level (def, class, import, assignment) or declares global."""
    with _quiet:  # not warnings about the program's invalid escapes: the child reports what matters
        with warnings.catch_warnings():  # (not thread-safe, hence the lock)
            warnings.simplefilter("ignore")
            try:
                tree = ast.parse(source)
            except Exception:  # noqa: BLE001 - SyntaxError, or MemoryError on 10**5 nested unary minus
                return set()  # (then the real builtins judge: the safe side)
    names = {n for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names}
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)  # its body is another scope
        elif isinstance(node, (ast.Import, ast.ImportFrom)):  # `import math`, `from fractions import Fraction`:
            names.update((a.asname or a.name).split(".")[0] for a in node.names  # the names the parent trusts
                         if not (isinstance(node, ast.Import) and a.asname is None and a.name in MODULES
                                 or isinstance(node, ast.ImportFrom) and a.asname in (None, a.name)
                                 and (node.module, a.name) in IMPORTS))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif not isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            todo.extend(ast.iter_child_nodes(node))
    return names


def _free_names(node: ast.AST) -> set[str]:
    """Names an expression reads, less those bound inside it (comprehension variables, lambda arguments)."""
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(node) if isinstance(n, ast.Lambda) for a in ast.walk(n.args)
              if isinstance(a, ast.arg)}
    return used - bound


def _here(node: ast.AST, trusted: set[str]) -> bool:
    """Can the parent evaluate this node itself (its children may still be leaves)?"""
    if isinstance(node, ast.Name):
        return node.id in trusted and node.id in NAMES
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id in MODULES:
            return node.value.id in trusted and node.attr in MODULES[node.value.id]
        return node.attr in METHODS and not isinstance(node.value, (ast.Name, ast.Attribute))
    if isinstance(node, ast.Subscript):  # f(x)[0] here; d["k"], os.environ["HOME"]: the program's objects
        return not isinstance(node.value, (ast.Name, ast.Attribute))
    if isinstance(node, ast.Call):
        return (_here(node.func, trusted) and not any(isinstance(a, ast.Starred) for a in node.args)
                and all(k.arg for k in node.keywords))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return not any(isinstance(e, ast.Starred) for e in node.elts)
    if isinstance(node, ast.Dict):
        return None not in node.keys
    return isinstance(node, SIMPLE)


def _leaves(node: ast.AST, trusted: set[str], truth: bool = False) -> list[tuple[ast.expr, bool]]:
    """The maximal sub-expressions the parent cannot evaluate, in evaluation order, each with whether
    only its truth matters there (the assert itself, `not x`, `x and y` in such a place, `a if x else b`)."""
    if isinstance(node, ast.keyword):
        return _leaves(node.value, trusted)
    if not isinstance(node, ast.expr):
        return []  # operators, contexts
    if not _here(node, trusted):
        return [(node, truth)]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in MODULES:
        return []  # math.isclose: the module name is not a leaf
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _leaves(node.operand, trusted, True)
    if isinstance(node, ast.BoolOp):
        return [leaf for v in node.values for leaf in _leaves(v, trusted, truth)]
    if isinstance(node, ast.IfExp):
        return (_leaves(node.test, trusted, True) + _leaves(node.body, trusted, truth)
                + _leaves(node.orelse, trusted, truth))
    return [leaf for child in ast.iter_child_nodes(node) for leaf in _leaves(child, trusted)]
