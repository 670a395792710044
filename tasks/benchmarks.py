"""Load the paper's evaluation benchmarks as lists of Example rows, from local JSONL copies or the Hugging Face hub.

Every benchmark has its own schema; one mapping function per benchmark (below, with notes on its data) turns a row
into  Example(id, question, answer, tests, choices, benchmark, meta):
  math             answer = the gold final answer as a string; the judge compares the model's \\boxed{} with it
  multiple choice  the question ends with "A. ...", "B. ..." lines; choices = the option texts; answer = a letter
  code (MBPP)      answer = None; tests = the assert lines; meta["test_setup"] = code to run before them

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
    python tasks/benchmarks.py             # every benchmark: where it loads from, its rows, its first example
    python tasks/benchmarks.py mbpp aime   # the first example of the named benchmarks in full
"""
import ast
import hashlib
import json
import os
import random
import re
import sys
import warnings
from dataclasses import dataclass, field

LETTERS = "ABCDEFGHIJ"
# The paper averages five math sets; its AIME set is 2024 + 2025 together (30 + 30), loaded as "aime".
MATH_FIVE = ("gsm8k", "math500", "minerva_math", "olympiadbench", "aime")
PAPER_SIZES = {"gsm8k": 1319, "math500": 500, "minerva_math": 272, "olympiadbench": 675, "aime": 60}
MULTIPLE_CHOICE = ("arc_challenge", "mmlu_stem", "gpqa")  # general QA, science, science (gated)
CODE = ("mbpp",)
# The MBPP prompt shows the task text and this many of its tests, so the model learns the function's name and
# signature. 1 is what the common zero-shot harnesses do; the MBPP paper showed all three.
MBPP_TESTS_SHOWN = 1
MMLU_STEM_SUBJECTS = frozenset((
    "abstract_algebra", "astronomy", "college_biology", "college_chemistry", "college_computer_science",
    "college_mathematics", "college_physics", "computer_security", "conceptual_physics", "electrical_engineering",
    "elementary_mathematics", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
    "high_school_mathematics", "high_school_physics", "high_school_statistics", "machine_learning"))

# name -> (folder under the data root, default local split, (hub id, config, split) or None)     rows of local copy
SOURCES = {
    "gsm8k": ("gsm8k", "test", ("openai/gsm8k", "main", "test")),                                     # 1319
    "math500": ("math500", "test", ("HuggingFaceH4/MATH-500", None, "test")),                          # 500
    "minerva_math": ("minerva_math", "test", ("math-ai/minervamath", None, "test")),                   # 272
    "olympiadbench": ("olympiadbench", "test", ("Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train")),  # 675
    "aime24": ("aime24", "test", ("HuggingFaceH4/aime_2024", None, "train")),                          # 30
    "aime25": ("aime25", "test", ("math-ai/aime25", None, "test")),                                    # 30
    "amc23": ("amc23", "test", ("math-ai/amc23", None, "test")),                                       # 40
    "mbpp": ("mbpp", "test", ("google-research-datasets/mbpp", "full", "test")),                       # 500
    "arc_challenge": ("arc_challenge", "test", ("allenai/ai2_arc", "ARC-Challenge", "test")),          # 1172
    "mmlu_stem": ("mmlu_stem", "test", ("cais/mmlu", "all", "test")),                                  # 3018
    "gpqa": ("gpqa", "test", ("Idavidrein/gpqa", "gpqa_diamond", "train")),                            # not shipped
    "math_train": ("math", "train", None),                                                             # 11998 used
}
BENCHMARKS = tuple(SOURCES) + ("aime",)
DEFAULT_DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared",
                                "data")


@dataclass
class Example:
    id: str                            # "<benchmark>/<the row's own id>", or "<benchmark>/<0-based row number>"
    question: str                      # the text the model sees (options included for multiple choice)
    answer: str | None                 # gold final answer; a letter for multiple choice; None for code
    tests: list[str] | None = None     # code: assert statements
    choices: list[str] | None = None   # multiple choice: option texts, choices[0] is option A
    benchmark: str = ""
    meta: dict = field(default_factory=dict)  # subject, level, solution, test_setup, ...


class RowError(ValueError):
    """A row lacks a field or holds a value we cannot map; the loader adds the file and line."""


# ----------------------------------------------------------------------------- reading fields of a row

def _present(row: dict, names: tuple[str, ...]) -> str:
    """The first of `names` present (and not None) in `row`: hub copies rename fields, so each spelling counts."""
    for name in names:
        if row.get(name) is not None:
            return name
    raise RowError(f"field {' or '.join(repr(n) for n in names)} missing (fields present: {', '.join(sorted(row))})")


def _describe(value) -> str:
    """A short 'type value' for error messages: "int 5", "list ['a', 'b']"."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _field(row: dict, *names: str):
    """The value of the first of `names` in `row`, any type."""
    return row[_present(row, names)]


def _text(row: dict, *names: str) -> str:
    """The value of the first of `names` in `row`, which must be a string."""
    name = _present(row, names)
    if not isinstance(row[name], str):
        raise RowError(f"field {name!r} is not a string (got {_describe(row[name])})")
    return row[name]


def _question(row: dict, *names: str) -> str:
    """Like _text, and not blank: the model cannot be asked an empty question."""
    name = _present(row, names)
    text = _text(row, name)
    if not text.strip():
        raise RowError(f"field {name!r} is empty")
    return text


def _scalar(row: dict, *names: str) -> str | int | float:
    """A gold answer or option given as a string or a number (amc23 stores its answers as floats, e.g. 27.0)."""
    name = _present(row, names)
    return _check_scalar(row[name], f"field {name!r}")


def _check_scalar(value, what: str) -> str | int | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RowError(f"{what} is not a string or a number (got {_describe(value)})")
    return value


def _string_list(row: dict, name: str, what: str) -> list[str]:
    value = _field(row, name)
    if not isinstance(value, list) or not value or not all(isinstance(x, str) for x in value):
        raise RowError(f"field {name!r} is not a non-empty list of {what} (got {_describe(value)})")
    return value


# ----------------------------------------------------------------------------- small helpers

def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (braces matched, nesting allowed) or \\boxed x; None when absent."""
    start = text.rfind("\\boxed")
    if start < 0:
        return None
    i = start + len("\\boxed")
    if text[i:i + 1] == " ":  # "\boxed 2": the argument runs to the next $ or whitespace
        match = re.match(r"\s*([^\s$]+)", text[i:])
        return match.group(1) if match else None
    if text[i:i + 1] != "{":
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j].strip()
    return None  # unbalanced braces


def _plain_number(value) -> str:
    """27.0 -> "27", "023" -> "23"; anything else stays as its stripped string."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return str(int(text)) if re.fullmatch(r"[+-]?\d+", text) else text


def format_choices(question: str, options: list[str]) -> str:
    """The multiple-choice prompt: the question, a blank line, then one "A. option" line per option."""
    if not 2 <= len(options) <= len(LETTERS):
        raise RowError(f"a multiple-choice row needs 2 to {len(LETTERS)} options, got {len(options)}")
    return question.strip() + "\n\n" + "\n".join(f"{LETTERS[i]}. {str(o).strip()}" for i, o in enumerate(options))


def _choice(name: str, i, row_id, question: str, options: list[str], correct: int, meta: dict) -> Example:
    return Example(f"{name}/{row_id if row_id is not None else i}", format_choices(question, options),
                   LETTERS[correct], choices=[str(o).strip() for o in options], benchmark=name, meta=meta)


# ----------------------------------------------------------------------------- one mapper per benchmark
# Each takes (row, index) in the local schema or the hub schema and returns an Example, or raises RowError naming
# the field at fault. A row whose gold answer comes out empty is skipped by the loader with a warning.

# GSM8K: `answer` is the worked solution (with <<a*b=c>> calculator notes) ending in "#### N". The gold answer is
# N with thousands commas removed ("1,234" -> "1234"). Local file and openai/gsm8k share the schema.
def _gsm8k(row, i):
    solution = _text(row, "answer")
    if "####" not in solution:
        raise RowError("field 'answer' has no final '#### <number>' line")
    answer = solution.rsplit("####", 1)[1].strip().replace(",", "")
    return Example(f"gsm8k/{i}", _question(row, "question"), answer, benchmark="gsm8k", meta={"solution": solution})


# MATH-500: `answer` is the final answer as LaTeX; subject, level (1-5) and unique_id ("test/algebra/1.json") are
# kept in meta. The local file is byte-identical to the PRM800K split that HuggingFaceH4/MATH-500 copies.
def _math500(row, i):
    meta = {k: row[k] for k in ("subject", "level", "unique_id", "solution") if k in row}
    return Example(f"math500/{row.get('unique_id', i)}", _question(row, "problem"),
                   str(_scalar(row, "answer")).strip(), benchmark="math500", meta=meta)


def _boxed_or_answer(row):
    """An `answer` field when the copy has one (some hub copies extracted it), else the last \\boxed{} of solution."""
    if row.get("answer") is not None:
        return str(_scalar(row, "answer")).strip()
    answer = last_boxed(_text(row, "solution"))
    if answer is None:
        raise RowError("field 'solution' has no \\boxed{...} final answer")
    return answer


# Minerva math (OCW courses): the gold answer is the last \boxed{} of `solution` (all 272 local rows have one);
# math-ai/minervamath calls the problem `question` and gives `answer` directly. Many answers carry units.
def _minerva_math(row, i):
    meta = {k: row[k] for k in ("type", "solution") if k in row}
    return Example(f"minerva_math/{row.get('idx', i)}", _question(row, "problem", "question"),
                   _boxed_or_answer(row), benchmark="minerva_math", meta=meta)


# MATH train (training data, not an evaluation set): 12,000 rows = the 7,500 MATH train problems plus the 4,500
# MATH test problems outside MATH-500 (the PRM800K split). Gold = the last \boxed{} of `solution`. Two rows
# (train/number_theory/7115 and 7117) end in an empty \boxed{} and are skipped, so 11,998 examples remain.
# There is no default hub copy: pass a hub id whose rows have problem and solution.
def _math_train(row, i):
    meta = {k: row[k] for k in ("level", "type", "subject", "unique_id", "solution") if k in row}
    return Example(f"math_train/{row.get('unique_id', i)}", _question(row, "problem"),
                   _boxed_or_answer(row), benchmark="math_train", meta=meta)


# OlympiadBench (English, text-only, open-ended math): `final_answer` is a list of "$...$" LaTeX strings, more than
# one when is_multiple_answer (94 rows). Gold = the list joined by ", " with unescaped $ removed (the model boxes
# answers without them). The original list is kept in meta["final_answer"], the unit (8 rows) in meta["unit"].
# The hub config OE_TO_maths_en_COMP has 674 rows, one fewer than the local file.
def _olympiadbench(row, i):
    final = _field(row, "final_answer")
    parts = final if isinstance(final, list) else [final]
    for part in parts:
        _check_scalar(part, "field 'final_answer'" + (" (an element)" if isinstance(final, list) else ""))
    answer = ", ".join(re.sub(r"(?<!\\)\$", "", str(p)).strip() for p in parts)  # unescaped $ only
    question = _question(row, "question")
    if row.get("context"):  # null in the text-only English set; kept for other subsets
        question = f"{_text(row, 'context')}\n{question}"
    meta = {"final_answer": final, "is_multiple_answer": bool(row.get("is_multiple_answer", len(parts) > 1))}
    meta.update({k: row[k] for k in ("unit", "answer_type", "subfield", "error") if k in row})
    return Example(f"olympiadbench/{row.get('id', i)}", question, answer, benchmark="olympiadbench", meta=meta)


# AIME 2024: `answer` is a zero-padded string ("023"); gold drops the padding ("23"). `problem` and `question` hold
# the same text. AIME 2025: `expected_answer` (hub: `answer`), not padded; ids aime25-0..14 are AIME I, 15..29 II.
def _aime24(row, i):
    return Example(f"aime24/{row.get('id', i)}", _question(row, "problem", "question"),
                   _plain_number(_scalar(row, "answer")), benchmark="aime24", meta={"url": row.get("url")})


def _aime25(row, i):
    return Example(f"aime25/{row.get('id', i)}", _question(row, "problem", "question"),
                   _plain_number(_scalar(row, "expected_answer", "answer")), benchmark="aime25")


# AMC 2023: `answer` is a JSON float (27.0); gold is "27", and a non-whole answer stays as written ("2.5").
def _amc23(row, i):
    return Example(f"amc23/{row.get('id', i)}", _question(row, "problem", "question"),
                   _plain_number(_scalar(row, "answer")), benchmark="amc23", meta={"url": row.get("url")})


def mbpp_question(text: str, tests: list[str], shown: int = MBPP_TESTS_SHOWN) -> str:
    noun = "this test" if shown == 1 else "these tests"
    return f"{text.strip()}\nYour code should pass {noun}:\n" + "\n".join(tests[:shown])


def _mbpp_imports(row) -> list[str]:
    """The sanitized set's `test_imports` as a list of import lines; absent or empty gives [].

    A string is accepted as import code written out ("import math", or several lines): joining a string as if it
    were a list would put one character per line and break every solution. Either form must parse as Python
    import statements, so a list that was turned into its text ("['import math']") is rejected, not run.
    """
    imports = row.get("test_imports") or []
    if isinstance(imports, str):
        imports = [imports]
    if not isinstance(imports, list) or not all(isinstance(line, str) for line in imports):
        raise RowError(f"field 'test_imports' is not a list of import lines (got {_describe(row['test_imports'])})")
    for line in imports:
        try:
            statements = ast.parse(line).body
        except SyntaxError:
            statements = [None]
        if not all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in statements):
            raise RowError(f"field 'test_imports' holds {line!r}, which is not Python import statements; "
                           f"give a list of lines such as [\"import math\"]")
    return imports


# MBPP: the local file is the standard test split (task_id 11-510) of the full set; rows have `text`, `test_list`
# (3 asserts), `test_setup_code` (non-empty only for task 367) and the reference `code`. The sanitized set
# (source=".../mbpp/sanitized.jsonl") calls the text `prompt` and lists imports in `test_imports`, which are put
# before test_setup_code in meta["test_setup"]. tests = test_list; `challenge_test_list` goes to meta.
def _mbpp(row, i):
    tests = _string_list(row, "test_list", "assert strings")
    setup = row.get("test_setup_code") or ""
    if not isinstance(setup, str):
        raise RowError(f"field 'test_setup_code' is not a string (got {_describe(setup)})")
    imports = _mbpp_imports(row)
    if imports:
        setup = "\n".join(imports) + ("\n" + setup if setup else "")
    text = _question(row, "text", "prompt")  # full set: text; sanitized set: prompt
    meta = {"test_setup": setup, "reference_code": row.get("code"), "task_id": row.get("task_id"),
            "challenge_tests": row.get("challenge_test_list") or []}
    return Example(f"mbpp/{row.get('task_id', i)}", mbpp_question(text, tests), None, tests=list(tests),
                   benchmark="mbpp", meta=meta)


# ARC-Challenge: the local copy is NOT the AI2/hub schema: it has one field per option label, the labels in order
# in `label`, and the key in `answer`. The hub has choices = {"text": [...], "label": [...]} and `answerKey`.
# Labels "1".."4" (22 local rows) become A-D by position; the original labels are kept in meta["labels"].
# 1,165 local rows have 4 options, 4 have 3, 3 have 5.
def _arc_challenge(row, i):
    if isinstance(row.get("choices"), dict):  # hub schema
        choices = row["choices"]
        if not (isinstance(choices.get("label"), list) and isinstance(choices.get("text"), list)):
            raise RowError(f"field 'choices' is not {{'text': [...], 'label': [...]}} (got {_describe(choices)})")
        labels, options = list(choices["label"]), list(choices["text"])
        for option in options:
            _check_scalar(option, "an option in field 'choices'")
        key = _text(row, "answerKey")
    else:  # local schema
        labels = _string_list(row, "label", "option labels")
        options = [_scalar(row, label) for label in labels]
        key = _text(row, "answer", "answerKey")
    if key not in labels:
        raise RowError(f"answer {key!r} is not one of the option labels {labels}")
    meta = {"labels": labels} if labels != list(LETTERS[:len(labels)]) else {}
    return _choice("arc_challenge", i, row.get("id"), _question(row, "question"), options, labels.index(key), meta)


# MMLU-STEM: `choices` is a list of 4 options, `answer` an index 0-3 (a letter is accepted too). The local copy
# keeps only the 18 STEM subjects (field `type`); the hub's "all" config holds all 57 and the loader keeps the 18.
def _mmlu_stem(row, i):
    options = _field(row, "choices")
    if not isinstance(options, list):
        raise RowError(f"field 'choices' is not a list of options (got {_describe(options)})")
    for option in options:
        _check_scalar(option, "an option in field 'choices'")
    answer = _field(row, "answer")
    index = LETTERS.index(answer) if isinstance(answer, str) and answer in LETTERS else answer
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(options):
        raise RowError(f"field 'answer' is {_describe(answer)}, not an index into the {len(options)} choices")
    meta = {"subject": row.get("subject", row.get("type"))}
    return _choice("mmlu_stem", i, None, _question(row, "question"), options, index, meta)


# GPQA (diamond, 198 rows): gated on the hub and not shipped locally. The hub lists the correct answer first, so the
# options are shuffled with a seed from the row's Record ID: the same row gets the same letter in every run.
def _gpqa(row, i):
    correct = _text(row, "Correct Answer")
    options = [correct] + [_text(row, f"Incorrect Answer {k}") for k in (1, 2, 3)]
    row_id = row.get("Record ID")
    question = _question(row, "Question")
    seed = int(hashlib.sha256(str(row_id or question).encode()).hexdigest()[:16], 16)
    order = random.Random(seed).sample(range(4), 4)  # order[j] = which original option is shown at letter j
    meta = {"subdomain": row.get("Subdomain"), "domain": row.get("High-level domain")}
    return _choice("gpqa", i, row_id, question, [options[k] for k in order], order.index(0), meta)


MAPPERS = {"gsm8k": _gsm8k, "math500": _math500, "minerva_math": _minerva_math, "olympiadbench": _olympiadbench,
           "aime24": _aime24, "aime25": _aime25, "amc23": _amc23, "mbpp": _mbpp, "arc_challenge": _arc_challenge,
           "mmlu_stem": _mmlu_stem, "gpqa": _gpqa, "math_train": _math_train}


def to_example(name: str, row: dict, index: int = 0) -> Example:
    """Map one row (local or hub schema) of benchmark `name` to an Example; RowError says what is missing."""
    _check_name(name)
    if name == "aime":
        raise ValueError("to_example: map aime rows as 'aime24' or 'aime25'")
    return MAPPERS[name](row, index)


# ----------------------------------------------------------------------------- loading

def data_dir() -> str:
    return os.environ.get("ILR_DATA_DIR") or DEFAULT_DATA_DIR


def _check_name(name: str) -> None:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")


def _local_path(name: str, source: str | None, split: str) -> str:
    folder = SOURCES[name][0]
    if source is None:
        root = data_dir()
        path = os.path.join(root, folder, f"{split}.jsonl")
        if os.path.isfile(path):
            return path
        origin = "ILR_DATA_DIR" if os.environ.get("ILR_DATA_DIR") else "the default: ../shared/data beside the repo"
        hint = ""
        if name == "gpqa":
            hint = (" GPQA is gated and not shipped: accept its terms on huggingface.co/datasets/Idavidrein/gpqa "
                    "and use source='hf', or save the rows as JSONL there.")
        elif SOURCES[name][2] is not None:
            hint = f" Or load {SOURCES[name][2][0]} from the Hugging Face hub with source='hf'."
        raise FileNotFoundError(f"benchmark {name!r}: no file {path} (data folder {root}, from {origin}). "
                                f"Point to your copy with ILR_DATA_DIR=/path/to/data or "
                                f"source='/path/to/{split}.jsonl'.{hint}")
    if os.path.isfile(source):
        return source
    tried = [os.path.join(source, f"{split}.jsonl"), os.path.join(source, folder, f"{split}.jsonl")]
    for path in tried:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"benchmark {name!r}: source {source!r} is not a file and neither {tried[0]} nor "
                            f"{tried[1]} exists. Pass a .jsonl file, a folder holding {split}.jsonl, or a data root.")


def _read_jsonl(path: str):
    """Yield (row, "<path> line N") for every non-blank line; a line that is not one JSON object is an error."""
    with open(path, "rb") as f:  # bytes, so that a bad byte is reported with its line instead of mid-iteration
        for lineno, raw in enumerate(f, 1):
            where = f"{path} line {lineno}"
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")  # utf-8-sig: drop a leading BOM
            except UnicodeDecodeError as e:
                raise ValueError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                hint = ""
                if lineno == 1 and line.lstrip().startswith("["):
                    hint = "; the file looks like one JSON array: write one JSON object per line instead"
                elif line.startswith("version https://git-lfs"):
                    hint = "; this is a Git LFS pointer, not the data: fetch the real file (git lfs pull)"
                raise ValueError(f"{where}: not valid JSON ({e.msg}, column {e.colno}){hint}") from None
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected a JSON object {{...}}, got a JSON {type(row).__name__}"
                                 + ("; write one JSON object per line" if isinstance(row, list) else ""))
            yield row, where


def _read_hub(name: str, hub_id: str, config: str | None, split: str, source: str):
    try:
        import datasets
    except ImportError as e:
        raise ImportError("source='hf' needs the `datasets` package (pip install datasets)") from e
    try:
        rows = datasets.load_dataset(hub_id, config, split=split)
    except Exception as e:  # offline, gated, renamed: say so and point at the local route
        how = "" if source == "hf" else f" (no path {source!r} exists, so it was read as a hub id)"
        raise RuntimeError(f"benchmark {name!r}: could not load {hub_id} (config {config}, split {split}) from the "
                           f"Hugging Face hub{how}: {type(e).__name__}: {e}. Offline (HF_DATASETS_OFFLINE=1) or "
                           f"gated? Use a local JSONL copy with source='/path/to/file.jsonl' or ILR_DATA_DIR.") from e
    for i, row in enumerate(rows):
        yield dict(row), f"{_hub_name(hub_id, config, split)} row {i}"


def _hub_name(hub_id: str, config: str | None, split: str) -> str:
    return f"{hub_id} ({config or 'default'}, {split})"


def _hub_target(name: str, source: str, split: str | None) -> tuple[str, str | None, str]:
    default = SOURCES[name][2]
    if source == "hf":
        if default is None:
            raise ValueError(f"benchmark {name!r} has no default hub copy; pass source='owner/name[:config]'")
        return default[0], default[1], split or default[2]
    hub_id, _, config = source.partition(":")
    if default is not None and hub_id == default[0]:
        return hub_id, config or default[1], split or default[2]
    return hub_id, config or None, split or "test"


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

# ----------------------------------------------------------------------------- python tasks/benchmarks.py

def _summary(name: str) -> tuple[str, bool]:
    """One line about benchmark `name` (its rows and first example, or why it cannot load) and whether it failed."""
    folder, split, _ = SOURCES["aime24" if name == "aime" else name]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = load_benchmark(name)
    except FileNotFoundError:
        how = f"`python tasks/benchmarks.py {name}` says what to do"
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


if __name__ == "__main__":
    sys.exit(main())
