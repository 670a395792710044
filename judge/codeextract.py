"""extract_code(text): the program a model's completion means, ready for sandbox.run_tests.

Models answer a coding prompt in many shapes: one fenced block; a solution block followed by a usage
block (`print(f(3))`, `n = int(input())`); a ```Python or ```py3 fence; a fence never closed because
generation stopped; a corrected second version. The rules, in order:

  1. Blocks: every fenced block (``` or ~~~) tagged python/py/python3/py3 (any case) or untagged; an
     unclosed fence runs to the end of the text. Blocks tagged with another language are skipped. No
     fence at all: the whole text is the block.
  2. Blocks that define something (a def or class at top level) are the program, joined in order, so a
     later version of a function replaces an earlier one, as Python would. The others are usage
     examples and are dropped (they may use names the prompt only described). When no block defines
     anything, the last block that parses is the program (and the last block at all if none parses,
     so that the sandbox reports the syntax error).
  3. From the program, top-level statements that read standard input (input(), sys.stdin, or a call
     to a function of the program that does) are dropped, and so are the later ones that use a name
     only those bound (`n = int(input())`, then `print(f(n))`): stdin is /dev/null in the sandbox, and
     a demo that reads it would turn a correct solution into an EOFError.
"""
import ast
import re
import textwrap
import threading
import warnings

PYTHON_TAGS = {"", "python", "py", "python3", "py3"}
_quiet = threading.Lock()
FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)")


def extract_code(text: str) -> str:
    blocks = [body for tag, body in _fenced_blocks(text) if tag.lower() in PYTHON_TAGS] or [text]
    parsed = [(body, _parse(body)) for body in blocks]
    program = [(body, tree) for body, tree in parsed if tree is not None and _defines(tree)]
    if not program:
        usable = [(body, tree) for body, tree in parsed if tree is not None] or parsed
        return usable[-1][0].strip("\n") + "\n"
    functions = [n for _, tree in program for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    readers, grew = set(), True
    while grew:  # functions that read stdin, directly or through another such function
        found = {f.name for f in functions if _reads_stdin(f, readers)}
        readers, grew = readers | found, bool(found - readers)
    kept, unset = [], set()  # unset: names only a dropped statement would have bound
    for body, tree in program:
        lines, dropped = body.split("\n"), []  # numbered as the parser numbers them
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
                continue
            names = {n.id: type(n.ctx) for n in ast.walk(node) if isinstance(n, ast.Name)}
            if _reads_stdin(node, readers) or any(ctx is ast.Load and n in unset for n, ctx in names.items()):
                dropped.append(node)  # n = int(input()), and then print(f(n))
                unset |= {n for n, ctx in names.items() if ctx is ast.Store}
        for node in reversed(dropped):
            del lines[node.lineno - 1:node.end_lineno]
        kept.append("\n".join(lines).strip("\n"))
    return "\n\n".join(kept) + "\n"


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, body) of each fenced block; a fence left open runs to the end."""
    blocks, lines, i = [], re.split(r"\r?\n", text), 0  # not splitlines(): it also splits at \x0c, \u2028
    while i < len(lines):
        m = FENCE.match(lines[i])
        i += 1
        if not m:
            continue
        fence, body = m.group(1), []
        while i < len(lines) and not (lines[i].strip().startswith(fence) and not lines[i].strip().strip(fence[0])):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        blocks.append((m.group(2), _dedent(body)))
    return blocks


def _dedent(lines: list[str]) -> str:
    return textwrap.dedent("\n".join(lines))  # a fence indented inside a list item


def _parse(source: str):
    with _quiet, warnings.catch_warnings():  # not "invalid escape sequence" for every completion
        warnings.simplefilter("ignore")      # (catch_warnings is not thread-safe, hence the lock)
        try:
            return ast.parse(source)
        except Exception:  # noqa: BLE001 - SyntaxError; MemoryError or RecursionError on absurd nesting
            return None


def _defines(tree: ast.Module) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body)


def _reads_stdin(node: ast.AST, readers: set[str]) -> bool:
    """Does this code call input(), touch sys.stdin, or call one of `readers`?"""
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in {"input"} | readers:
            return True
        if isinstance(n, ast.Attribute) and n.attr == "stdin" or isinstance(n, ast.Name) and n.id == "stdin":
            return True
    return False
