"""The house: every import runs down (or across) the floors of the README's map, never up, and never in a circle."""
import ast
import glob
import os

from conftest import ROOT

FLOORS = [   # lowest first; a module may import its own floor or any below
    {"judge"},                                   # is this answer right?
    {"tasks", "models"},                         # where questions and models come from
    {"grpo", "irt", "calibration", "idea3"},     # the method
    {"lab"},                                     # plumbing: flags, checkpoints, plots, sharding
    {"evaluate", "train"},                       # the two programs
    {"experiments"},                             # what is run with them
]


def import_graph() -> dict:
    """top-level unit (a package or a top-level module) -> the project units it imports."""
    units = {f: os.path.relpath(f, ROOT).split(os.sep)[0].removesuffix(".py")
             for f in glob.glob(os.path.join(ROOT, "**", "*.py"), recursive=True)}
    units = {f: u for f, u in units.items() if u not in ("tests", "bench", "notebooks")}
    names = set(units.values())
    graph = {u: set() for u in names}
    for f, unit in units.items():
        for node in ast.walk(ast.parse(open(f).read())):
            found = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [unit] if isinstance(node, ast.ImportFrom) and node.level else \
                [node.module] if isinstance(node, ast.ImportFrom) else []
            graph[unit] |= {n.split(".")[0] for n in found if n.split(".")[0] in names} - {unit}
    return graph


def test_every_unit_has_a_floor_and_imports_only_downwards():
    graph = import_graph()
    floor = {u: i for i, units in enumerate(FLOORS) for u in units}
    assert set(graph) == set(floor), f"without a floor: {set(graph) - set(floor)}; gone: {set(floor) - set(graph)}"
    upward = [(u, v) for u, deps in graph.items() for v in deps if floor[v] > floor[u]]
    assert not upward, f"imports that run up a floor: {upward}"


def test_no_import_circle():
    graph, done, path = import_graph(), set(), []

    def visit(u):
        assert u not in path, f"import circle: {' -> '.join(path[path.index(u):] + [u])}"
        if u in done:
            return
        path.append(u)
        for v in sorted(graph[u]):
            visit(v)
        path.pop()
        done.add(u)
    for u in sorted(graph):
        visit(u)
