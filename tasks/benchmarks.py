"""Load the paper's evaluation benchmarks as lists of Example rows, from local JSONL copies or the Hugging Face hub.

Every benchmark has its own schema; its mapper in schemas.py turns a row into
Example(id, question, answer, tests, choices, benchmark, meta): the gold answer string for math, a letter and
the option texts for multiple choice, assert lines for code (MBPP). sources.py reads the rows (local files or
the hub); this file names the benchmarks and loads one: read, map, check, with messages that say what is wrong.

Use:
    from tasks.benchmarks import BENCHMARKS, MATH_FIVE, load_benchmark
    rows = load_benchmark("gsm8k")                         # local copy: $ILR_DATA_DIR/gsm8k/test.jsonl
    rows = load_benchmark("math500", limit=20)             # the first 20 rows in file order
    rows = load_benchmark("mbpp", source="/data/mbpp.jsonl")  # a .jsonl file, a benchmark folder or a data root
    rows = load_benchmark("gsm8k", source="hf")            # the hub copy named in SOURCES (network + `datasets`)
ILR_DATA_DIR defaults to ../shared/data beside this repository; its README.md says where each file comes from.
"aime" is the paper's one AIME set (aime24 + aime25, 60 rows); MATH_FIVE lists the paper's five math sets.
A file that cannot be used stops loading with a message naming the file, the line and the field at fault.

Run from the repository root:
    python -m tasks                        # every benchmark: where it loads from, its rows, its first example
    python -m tasks mbpp aime              # the first example of the named benchmarks in full
"""
import os
import re
import sys
import warnings

# Callers import the Example, the mappers and the readers from here (__all__ below). load_benchmark calls the
# readers by these module-level names, so a test can stand in for one with monkeypatch.setattr(benchmarks,
# "_read_hub", ...).
from .schemas import (LETTERS, MAPPERS, MBPP_TESTS_SHOWN, Example, RowError, format_choices, last_boxed,
                      mbpp_question)
from .sources import DEFAULT_DATA_DIR, SOURCES, _hub_name, _hub_target, _local_path, _read_hub, _read_jsonl, data_dir

__all__ = [
    # defined here
    "BENCHMARKS", "MATH_FIVE", "PAPER_SIZES", "MULTIPLE_CHOICE", "CODE", "MMLU_STEM_SUBJECTS", "load_benchmark",
    "to_example", "main",
    # from schemas.py: a benchmark row -> an Example
    "Example", "RowError", "MAPPERS", "LETTERS", "MBPP_TESTS_SHOWN", "format_choices", "last_boxed", "mbpp_question",
    # from sources.py: where the rows come from
    "SOURCES", "DEFAULT_DATA_DIR", "data_dir"]

# The paper averages five math sets; its AIME set is 2024 + 2025 together (30 + 30), loaded as "aime".
MATH_FIVE = ("gsm8k", "math500", "minerva_math", "olympiadbench", "aime")
PAPER_SIZES = {"gsm8k": 1319, "math500": 500, "minerva_math": 272, "olympiadbench": 675, "aime": 60}
MULTIPLE_CHOICE = ("arc_challenge", "mmlu_stem", "gpqa")  # general QA, science, science (gated)
CODE = ("mbpp",)
MMLU_STEM_SUBJECTS = frozenset((
    "abstract_algebra", "astronomy", "college_biology", "college_chemistry", "college_computer_science",
    "college_mathematics", "college_physics", "computer_security", "conceptual_physics", "electrical_engineering",
    "elementary_mathematics", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
    "high_school_mathematics", "high_school_physics", "high_school_statistics", "machine_learning"))
BENCHMARKS = tuple(SOURCES) + ("aime",)


# ----------------------------------------------------------------------------- loading

def _check_name(name: str) -> None:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")


def to_example(name: str, row: dict, index: int = 0) -> Example:
    """Map one row (local or hub schema) of benchmark `name` to an Example; RowError says what is missing."""
    _check_name(name)
    if name == "aime":
        raise ValueError("to_example: map aime rows as 'aime24' or 'aime25'")
    return MAPPERS[name](row, index)


def load_benchmark(name: str, source: str | None = None, split: str | None = None,
                   limit: int | None = None) -> list[Example]:
    """Load benchmark `name` (one of BENCHMARKS) as a list of Examples.

    source: None = the local copy under ILR_DATA_DIR (default ../shared/data); a path = a .jsonl file, a folder
    holding <split>.jsonl, or a data root laid out like the default; "hf" = the hub copy in SOURCES; "owner/name"
    or "owner/name:config" = any hub copy whose rows use a schema the mappers know.
    split: None = the evaluation split (local "test"; "train" for math_train; the hub split in SOURCES); any other
    name is the local file <split>.jsonl or that hub split. limit: keep the first N rows in file order.
    Raises ValueError naming the file and line when a row cannot be mapped, or when no row can be used.
    """
    _check_name(name)
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of rows or None, got {limit}")
    if name == "aime":  # the paper's one AIME set = 2024 + 2025; ids stay distinct ("aime24/60", "aime25/aime25-0")
        if source not in (None, "hf"):
            raise ValueError("benchmark 'aime' combines two files: use source=None or 'hf', or load 'aime24' and "
                             "'aime25' separately with their own sources")
        rows = load_benchmark("aime24", source, split) + load_benchmark("aime25", source, split)
        for ex in rows:
            ex.meta["year_set"], ex.benchmark = ex.benchmark, "aime"
        return rows[:limit]

    is_hub = source == "hf" or (source is not None and not os.path.exists(source)
                                and re.fullmatch(r"[\w.-]+/[\w.-]+(:[\w.-]+)?", source) is not None)
    if is_hub:
        target = _hub_target(name, source, split)
        origin, rows = _hub_name(*target), _read_hub(name, *target, source)
    else:
        origin = _local_path(name, source, split or SOURCES[name][1])
        rows = _read_jsonl(origin)

    examples, ungradable, not_stem, n_rows = [], [], 0, 0
    for index, (row, where) in enumerate(rows):
        n_rows += 1
        if name == "mmlu_stem" and row.get("subject") is not None and row["subject"] not in MMLU_STEM_SUBJECTS:
            not_stem += 1  # the hub's "all" config holds all 57 subjects
            continue
        try:
            ex = MAPPERS[name](row, index)
        except RowError as e:
            raise ValueError(_row_message(where, str(e), name, origin, n_rows)) from None
        except Exception as e:  # a value the mapper did not foresee: still say where, and keep the cause
            raise ValueError(_row_message(where, f"cannot map this row ({type(e).__name__}: {e})", name, origin,
                                          n_rows)) from e
        if ex.answer == "":  # e.g. an empty \boxed{} in the source: no answer can be judged right
            ungradable.append(ex.id)
            continue
        examples.append(ex)
        if limit is not None and len(examples) >= limit:
            break
    if not examples:
        raise ValueError(_no_rows_message(name, origin, n_rows, len(ungradable), not_stem))
    if ungradable:
        warnings.warn(f"benchmark {name!r}: skipped {len(ungradable)} rows with an empty gold answer: "
                      f"{', '.join(ungradable[:5])}", stacklevel=2)
    ids = [ex.id for ex in examples]
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise ValueError(f"benchmark {name!r}: id {dup!r} occurs twice in {origin}; ids must be unique")
    return examples


def _no_rows_message(name: str, origin: str, n_rows: int, n_ungradable: int, n_not_stem: int) -> str:
    if n_rows == 0:
        return (f"{origin}: no rows (the file is empty or holds only blank lines). Benchmark {name!r} needs one "
                f"JSON object per line: re-copy the file, or point source= or ILR_DATA_DIR at a complete copy.")
    reasons = [f"{k} {why}" for k, why in ((n_ungradable, "with an empty gold answer"),
                                           (n_not_stem, "outside the 18 MMLU STEM subjects")) if k]
    return (f"{origin}: none of its {n_rows} rows can be used ({', '.join(reasons)}). Is it the right file for "
            f"benchmark {name!r}?")


def _row_message(where: str, reason: str, name: str, origin: str, n_rows: int) -> str:
    first = f"; this is the first row: is {origin} a {name!r} file?" if n_rows == 1 else ""
    return f"{where}: {reason} (benchmark {name!r}){first}"


# ------------------------------------------------------------------ python -m tasks (tasks/__main__.py)

def _summary(name: str) -> tuple[str, bool]:
    """One line about benchmark `name` (its rows and first example, or why it cannot load) and whether it failed."""
    folder, split, _ = SOURCES["aime24" if name == "aime" else name]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = load_benchmark(name)
    except FileNotFoundError:
        how = f"`python -m tasks {name}` says what to do"
        return f"{name:14s} {'missing':>7s}  no {folder}/{split}.jsonl in the data folder; {how}", False
    except (ValueError, OSError) as e:
        return f"{name:14s} {'ERROR':>7s}  {e}", True
    ex = rows[0]
    gold = ex.answer if ex.answer is not None else f"{len(ex.tests)} tests"
    line = f"{name:14s} {len(rows):7d}  {ex.id:36.36s} gold={gold!r:12.12s} {ex.question[:36]!r}"
    return line + "".join(f"\n{'':24s}note: {str(w.message)[:90]}" for w in caught), False


def _show(name: str) -> None:
    """Print the first example of benchmark `name` in full."""
    try:
        ex = load_benchmark(name, limit=1)[0]
    except FileNotFoundError as e:
        print(f"=== {name}: not loaded\n{e}\n")
        return
    print(f"=== {ex.id} (benchmark {ex.benchmark})\n--- question\n{ex.question}\n--- answer: {ex.answer!r}")
    if ex.choices:
        print(f"--- choices: {ex.choices}")
    if ex.tests:
        print("--- tests\n" + "\n".join(ex.tests))
    print(f"--- meta: {', '.join(f'{k}={str(v)[:60]!r}' for k, v in ex.meta.items())}\n")


def main(argv: list[str] | None = None) -> int:
    """No arguments: one line per benchmark; benchmark names: their first example in full. Returns the exit code."""
    names = sys.argv[1:] if argv is None else argv
    for name in names:
        _check_name(name)
    for name in names:
        _show(name)
    if names:
        return 0
    print(f"data folder: {data_dir()}" + ("" if os.environ.get("ILR_DATA_DIR") else " (set ILR_DATA_DIR to change)"))
    print(f"{'benchmark':14s} {'rows':>7s}  first example")
    failed = False
    for name in BENCHMARKS:
        line, error = _summary(name)
        print(line)
        failed |= error
    return 1 if failed else 0
