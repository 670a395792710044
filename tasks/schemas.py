"""Each benchmark's row schema, and the one function per benchmark that maps a row to an Example.

A mapper takes (row, index) in the local schema or the hub schema (hub copies rename fields) and returns
Example(id, question, answer, tests, choices, benchmark, meta):
  math             answer = the gold final answer as a string; the judge compares the model's \\boxed{} with it
  multiple choice  the question ends with "A. ...", "B. ..." lines; choices = the option texts; answer = a letter
  code (MBPP)      answer = None; tests = the assert lines; meta["test_setup"] = code to run before them
or raises RowError naming the field at fault; benchmarks.load_benchmark adds the file and the line. Above each
mapper, notes on its data: its fields, its row counts, where its gold answer comes from.

Use (the loader does this for every row; tasks.benchmarks.to_example checks the name first):
    from tasks.schemas import MAPPERS
    ex = MAPPERS["amc23"]({"id": 0, "problem": "How far?", "answer": 27.0}, 0)   # ex.answer == "27"
No command line of its own: `python -m tasks amc23` prints a mapped example in full.
"""
import ast
import hashlib
import random
import re
from dataclasses import dataclass, field

from judge import LETTERS   # the option labels: a row is labelled with the letters the judge reads back
# The MBPP prompt shows the task text and this many of its tests, so the model learns the function's name and
# signature. 1 is what the common zero-shot harnesses do; the MBPP paper showed all three.
MBPP_TESTS_SHOWN = 1


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
