"""Run model-written Python against MBPP-style asserts in a throw-away child process; judge it HERE.

    run_tests(code, tests, setup) -> RunResult(passed, status, detail, seconds, stdout, stderr)

The verdict is decided in this process. Each `assert` is parsed with `ast` and evaluated here, with the
real builtins; only the parts that need the program (`f(3)`, a name it defines) are computed by the
child (sandbox_child.py), which sends back their VALUES as plain data (None, bool, int, float, complex,
str, bytes, list, tuple, dict, set, frozenset). The expected values never leave this process, and any
other value (an object whose __eq__ always says True) fails: nothing the program does inside its own
process turns a wrong answer into a pass. The policy for asserts other than `f(x) == literal`: _plan.

Contained (Linux): the child has its own folder work/, session and process group, and rlimits on
memory, CPU time, file size and open files. Before the first untrusted line it drops all capabilities
and asks the kernel for Landlock (5.13+: writes only under work/; reads only the Python installation
and system libraries, so not the data set nor our /proc) and seccomp (x86_64, aarch64: no fork, exec,
socket, ptrace, pidfd or SysV IPC; signals only to itself). The whole group is SIGKILLed at the end.
isolation() lists the layers this machine gives; a missing one is warned about once.
Not contained: CPU and memory of parallel runs add up; a layer the kernel lacks is absent (no Landlock:
the program reads and writes what this user can; no seccomp: it can start processes that outlive the
run, and use the network). A process running as root is not a security boundary, locked down or not:
a kernel bug or a gap in these lists is one step from the machine. Where a boundary is needed, run the
evaluator in a container or VM (gVisor, Firecracker, nsjail) as a separate unprivileged user.

Run: python judge/sandbox.py (one example of each status). More notes: tests/test_sandbox.py.
"""
import ast
import builtins
import json
import math
import operator
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass

STATUSES = ("passed", "failed", "error", "memory", "timeout", "crashed")
CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_child.py")
_quiet = threading.Lock()
WANTED_LAYERS = ("capabilities", "landlock", "seccomp")


@dataclass
class RunResult:
    passed: bool     # True only when every test ran and held
    status: str      # one of STATUSES
    detail: str      # one short line: which test failed (and what the program returned), the exception, the signal
    seconds: float   # wall time from start to kill
    stdout: str = ""  # the program's output, first max_output characters
    stderr: str = ""  # tracebacks land here, first max_output characters


def run_tests(code: str, tests: list[str], setup: str = "", timeout: float = 5.0, memory_mb: int = 512,
              file_mb: int = 16, max_output: int = 2000) -> RunResult:
    """Run `code`, then `setup`, then the `tests` (asserts) in a child process; judge the asserts here.

    timeout: wall-clock seconds for the whole child (interpreter start-up, ~30 ms, included).
    memory_mb: address-space limit (RLIMIT_AS); file_mb: size limit of any file it writes.
    """
    return _run(code, tests, setup, timeout, memory_mb, file_mb, max_output)[0]


def run_batch(jobs, timeout: float = 5.0, memory_mb: int = 512, workers: int | None = None) -> list[RunResult]:
    """Run many (code, tests) or (code, tests, setup) jobs, `workers` children at a time; results in job order.

    Threads are enough: each thread only waits on its own child process. Default workers =
    min(4, cpu count); memory in use can reach workers * memory_mb.
    """
    from concurrent.futures import ThreadPoolExecutor
    jobs = [tuple(j) for j in jobs]
    for i, j in enumerate(jobs):
        if len(j) not in (2, 3):
            raise ValueError(f"run_batch: job {i} must be (code, tests) or (code, tests, setup), got {len(j)} items")
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_tests, j[0], j[1], j[2] if len(j) == 3 else "", timeout, memory_mb)
                   for j in jobs]
        return [f.result() for f in futures]


def isolation() -> list[str]:
    """The lock-down layers the kernel gives a child on this machine (see the module docstring)."""
    return _run("", [], "", 5.0, 512, 16, 0)[1]


# ----------------------------------------------------------------------------- what the parent evaluates itself

# Names an assert may use that mean the real builtins here (unless the program defines them, like MBPP
# task 126's `sum`). Nothing here allocates without bound on small input: no range, bytes, pow, factorial.
BUILTINS = {f.__name__: f for f in (abs, all, any, bool, chr, complex, dict, divmod, enumerate, float, frozenset,
                                     int, isinstance, len, list, max, min, ord, repr, reversed, round, set, sorted,
                                     str, sum, tuple, type, zip)}
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
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.LShift: operator.lshift,
          ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor}
UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
PYTHON_NAMES = set(dir(builtins)) | set(MODULES)
# builtins through which an expression reads the program's state; the others compute from their arguments
STATEFUL = {"open", "globals", "locals", "vars", "dir", "getattr", "hasattr", "eval", "exec", "__import__", "id"}
SIMPLE = (ast.Constant, ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.Subscript, ast.Slice, ast.IfExp)


@dataclass
class _Plan:
    steps: list   # [kind, where, source] for the child: the code, the setup, then the tests' parts
    tests: list   # per test: (where, items); item = ("exec", step, source) | ("assert", node, {leaf: step}, source)
    problem: str = ""  # a test the parent cannot judge safely: the run ends in "error" with this detail


def _plan(code: str, setup: str, tests: list[str]) -> _Plan:
    """Split each test into what the child computes and what the parent checks.

    Policy, for each top-level statement of a test:
      assert E         E is evaluated HERE: constants, operators, comparisons, and/or/not, builtins in
                       BUILTINS, math.*, sys.getsizeof, METHODS of plain values. Each maximal part that
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
    trusted = (set(BUILTINS) | set(MODULES)) - defined
    plan = _Plan([["exec", "the code", code], ["exec", "the test setup", setup]], [])
    for k, test in enumerate(tests):
        where = f"test {k + 1}/{len(tests)}"
        try:
            body = ast.parse(test).body
        except Exception as e:  # noqa: BLE001
            return _Plan(plan.steps, plan.tests, f"bad test: {type(e).__name__} in {where}: {e}"[:300])
        items = []
        for stmt in body:
            source = ast.get_source_segment(test, stmt) or ast.unparse(stmt)
            if not isinstance(stmt, ast.Assert):
                if any(isinstance(n, ast.Assert) for n in ast.walk(stmt)):
                    return _Plan(plan.steps, plan.tests, f"bad test: {where} has an assert inside a block; "
                                                          "only top-level asserts can be judged by the parent")
                items.append(("exec", len(plan.steps), source))
                plan.steps.append(["exec", where, source])
                continue
            leaves = _leaves(stmt.test, trusted, True)
            for leaf, _ in leaves:  # the names in it through which it reads the program
                names = {n for n in _free_names(leaf) if n in defined | STATEFUL or n not in PYTHON_NAMES}
                if not names:
                    return _Plan(plan.steps, plan.tests, f"bad test: {where}: `{ast.unparse(leaf)}` reads nothing "
                                                          "of the program and the parent cannot compute it; "
                                                          "write the expected value out")
                root = leaf.func if isinstance(leaf, ast.Call) else leaf
                root = root.value if isinstance(root, ast.Attribute) else root
                if isinstance(root, ast.Name) and root.id in defined & PYTHON_NAMES and names - {root.id}:
                    return _Plan(plan.steps, plan.tests, f"bad test: the program redefines `{root.id}`, which "
                                                          f"{where} applies to the program's results")
            items.append(("assert", stmt.test, {leaf: len(plan.steps) + i for i, (leaf, _) in enumerate(leaves)}, source))
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
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names
                         if not (isinstance(node, ast.Import) and a.asname is None and a.name in MODULES))
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
        return node.id in trusted and node.id in BUILTINS
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
        return _leaves(node.test, trusted, True) + _leaves(node.body, trusted, truth) + _leaves(node.orelse, trusted, truth)
    return [leaf for child in ast.iter_child_nodes(node) for leaf in _leaves(child, trusted)]


class _ChildAnswer(Exception):
    """A leaf whose value cannot be used: the child raised, sent something opaque, or never answered."""


def _evaluate(node: ast.AST, ask):
    """The value of an asserted expression, computed here; ask(leaf) gives the child's value of a leaf."""
    value = ask(node)
    if value is not _NOT_A_LEAF:
        return value
    ev = lambda n: _evaluate(n, ask)  # noqa: E731
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
    raise TypeError(f"cannot evaluate {type(node).__name__}")  # unreachable: _leaves made it a leaf


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


def _decode(x, depth: int = 0):
    """The plain value a child sent (the inverse of sandbox_child.encode); ValueError when malformed."""
    if depth > 101:
        raise ValueError("nested too deeply")
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) is list:
        return [_decode(v, depth + 1) for v in x]
    if type(x) is dict and len(x) == 1:
        (tag, body), = x.items()
        if tag == "bytes" and type(body) is str:
            return bytes.fromhex(body)
        if tag == "complex" and type(body) is list and len(body) == 2 and all(type(v) is float for v in body):
            return complex(*body)
        if type(body) is list and tag == "dict":
            return {_decode(k, depth + 1): _decode(v, depth + 1) for k, v in body}
        if type(body) is list and tag in ("tuple", "set", "frozenset", "iter"):
            items = [_decode(v, depth + 1) for v in body]
            return iter(items) if tag == "iter" else {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
    raise ValueError(f"not a plain value: {str(x)[:80]}")


# ----------------------------------------------------------------------------- judging

def _verdict(plan: _Plan, records: list, finished: bool, returncode: int, timeout: float) -> tuple[str, str]:
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
                    answers[n] = _decode(record[2])
                    return answers[n]
                raise _ChildAnswer(record)

            try:
                held = bool(_evaluate(node, ask))
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


def _read_records(path: str, steps: list, limit: int):
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


# ----------------------------------------------------------------------------- the child process

_warned = False


def _run(code, tests, setup, timeout, memory_mb, file_mb, max_output) -> tuple[RunResult, list[str]]:
    global _warned
    if isinstance(tests, str) or not all(isinstance(t, str) for t in tests):
        raise TypeError("run_tests: tests must be a list of strings, one assert each "
                        f"(got {type(tests).__name__}); wrap a single test as [test]")
    if not isinstance(code, str) or not isinstance(setup, str):
        raise TypeError("run_tests: code and setup must be strings")
    if timeout <= 0 or memory_mb < 32 or file_mb < 1:
        raise ValueError(f"run_tests: need timeout > 0, memory_mb >= 32 (the interpreter needs ~20 MB), "
                         f"file_mb >= 1; got timeout={timeout}, memory_mb={memory_mb}, file_mb={file_mb}")
    plan = _plan(code, setup, list(tests))
    base = tempfile.mkdtemp(prefix="ilr-sandbox-")
    try:
        work, job_path, results = (os.path.join(base, k) for k in ("work", "job.json", "results"))
        os.mkdir(work)
        open(results, "wb").close()
        job = {"steps": plan.steps, "work": work, "results": results, "memory_bytes": memory_mb * 2**20,
               "cpu_seconds": int(timeout) + 1, "file_bytes": file_mb * 2**20}
        with open(job_path, "w") as f:
            json.dump(job, f)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
               # one thread per numeric library: threads count against the memory limit too
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        start = time.monotonic()
        with open(os.path.join(base, "stdout"), "wb") as out, open(os.path.join(base, "stderr"), "wb") as err:
            proc = subprocess.Popen([sys.executable, "-I", CHILD, job_path], cwd=work, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        try:
            finished = _wait_for_exit(proc.pid, start + timeout)
        finally:  # also on KeyboardInterrupt: never leave a child group behind
            _kill_group(proc.pid)  # the leader is a zombie (or alive, on timeout): its pgid is still ours
            proc.wait()            # reap the leader only now
        seconds = time.monotonic() - start
        layers, records = _read_records(results, plan.steps, file_mb * 2**20 + 2**16)
        status, detail = _verdict(plan, records, finished, proc.returncode, timeout)
        if layers is not None and not _warned and not set(WANTED_LAYERS) <= set(layers):
            _warned = True
            warnings.warn(f"sandbox: this machine gives the child only {layers or 'no'} of {list(WANTED_LAYERS)}; "
                          "see judge/sandbox.py for what is then not contained", RuntimeWarning, stacklevel=3)
        result = RunResult(status == "passed", status, detail, seconds,
                           _read_capped(os.path.join(base, "stdout"), max_output),
                           _read_capped(os.path.join(base, "stderr"), max_output))
        return result, layers or []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _wait_for_exit(pid: int, deadline: float) -> bool:
    """Poll until the child exits (True) or the deadline passes (False), WITHOUT reaping it."""
    delay = 0.0005
    while True:
        # WNOWAIT leaves the zombie in place: its pid (= our pgid) cannot be reused until we reap it
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(2 * delay, 0.02)  # fast answers for fast programs, ~50 polls/s for slow ones


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # nothing left in the group (the zombie leader does not count)


def _read_capped(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return ""
    text = data[:limit].decode("utf-8", errors="replace")
    return text + "...[truncated]" if len(data) > limit else text


# ----------------------------------------------------------------------------- demo

def _demo() -> None:
    square = "def square(x):\n    return x * x\n"
    cases = [
        ("passes", square, ["assert square(3) == 9", "assert square(-2) == 4"]),
        ("wrong answer", square, ["assert square(3) == 9", "assert square(2) == 5"]),
        ("lying __eq__", "class Yes:\n    def __eq__(self, other):\n        return True\n"
                         "def square(x):\n    return Yes()\n", ["assert square(3) == 9"]),
        ("exception", "def square(x):\n    return x * y\n", ["assert square(3) == 9"]),
        ("infinite loop", "while True:\n    pass\n", []),
        ("huge allocation", "x = bytearray(8 * 2**30)\n", []),
        ("segfault", "import ctypes\nctypes.string_at(0)\n", []),
        ("fork loop", "import os\nwhile True:\n    os.fork()\n", []),
    ]
    print("lock-down layers on this machine:", isolation())
    results = run_batch([(code, tests) for _, code, tests in cases], timeout=2.0, memory_mb=256)
    for (what, _, _), r in zip(cases, results):
        print(f"{what:16s} {r.status:8s} {r.seconds:5.2f} s  {r.detail}")


if __name__ == "__main__":
    _demo()
