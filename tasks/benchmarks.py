"""The paper's evaluation benchmarks as one list of Example rows, from local JSONL copies or the Hugging Face hub.

Every benchmark, whatever its schema, becomes
    Example(id, question, answer, tests, choices, benchmark, meta)
  math             answer = the gold final answer as a string; the judge compares the model's \\boxed{} with it
  multiple choice  question lists the options as "A. ...", "B. ..."; choices = the option texts; answer = a letter
  code (MBPP)      answer = None; tests = the assert lines; meta["test_setup"] = code to run before them
                   (sandbox.run_tests(code, ex.tests, ex.meta["test_setup"]))

name           local file (data folder)  rows   hub default: id, config, split
gsm8k          gsm8k/test.jsonl          1319   openai/gsm8k, main, test
math500        math500/test.jsonl        500    HuggingFaceH4/MATH-500, -, test
minerva_math   minerva_math/test.jsonl   272    math-ai/minervamath, -, test
olympiadbench  olympiadbench/test.jsonl  675    Hothan/OlympiadBench, OE_TO_maths_en_COMP, train (674 rows)
aime24         aime24/test.jsonl         30     HuggingFaceH4/aime_2024, -, train
aime25         aime25/test.jsonl         30     math-ai/aime25, -, test
aime           aime24 + aime25           60     both of the above; benchmark = "aime"
amc23          amc23/test.jsonl          40     math-ai/amc23, -, test
mbpp           mbpp/test.jsonl           500    google-research-datasets/mbpp, full, test (task_id 11-510)
arc_challenge  arc_challenge/test.jsonl  1172   allenai/ai2_arc, ARC-Challenge, test
mmlu_stem      mmlu_stem/test.jsonl      3018   cais/mmlu, all, test, keeping the 18 STEM subjects
gpqa           gpqa/test.jsonl           198    Idavidrein/gpqa, gpqa_diamond, train (gated: no local copy shipped)
math_train     math/train.jsonl          11998  none: pass a hub id whose rows have problem and solution

Gold answers:
  gsm8k          the text after '#### ', commas removed ("1,234" -> "1234")
  math500        answer;  minerva_math, math_train: the last \\boxed{} of solution (or an answer field if present)
  olympiadbench  the final_answer list joined by ", ", unescaped $ removed; is_multiple_answer kept in meta
  aime24/25      answer / expected_answer without zero padding ("023" -> "23");  amc23: 27.0 -> "27"
  mbpp           tests = test_list, meta["test_setup"] = test_setup_code (+ test_imports of the sanitized set)
  multiple choice  a letter: ARC labels "1".."4" become A-D by position; MMLU index 0-3 -> A-D; GPQA below

Choices the paper leaves open (our defaults):
  - The paper's five math sets are MATH_FIVE; AIME 2024 and 2025 (30 + 30) count as ONE set of 60, so
    load_benchmark("aime") concatenates them (ids stay distinct: "aime24/60", "aime25/aime25-0").
  - MBPP prompt: the task text plus the FIRST test (so the model learns the function name and signature),
    as in the common zero-shot harnesses; the MBPP paper showed all three. MBPP_TESTS_SHOWN sets how many.
  - Multiple choice prompt: the question, a blank line, then one "A. option" line per option. GPQA keeps the
    correct answer first on the hub, so its options are shuffled with a seed from the row's Record ID.
  - OlympiadBench answers are given as "$...$" LaTeX: the $ delimiters are removed (the model boxes answers
    without them); the original list is kept in meta["final_answer"], the unit (8 rows) in meta["unit"].
  - ids are "<benchmark>/<the row's own id>" or "<benchmark>/<0-based row number>" when the row has none.
  - limit=N keeps the first N rows in file order (no shuffling).
  - A row whose gold answer comes out empty is skipped with a warning: 2 of the 12,000 MATH train rows
    (train/number_theory/7115 and 7117) end in an empty \\boxed{}, so math_train has 11,998 examples.

Where data comes from (source=):
  None              the local default: $ILR_DATA_DIR/<file above>, ILR_DATA_DIR defaulting to ../shared/data
                    beside this repository
  a path            a .jsonl file, a benchmark's folder holding <split>.jsonl, or a data root like the default
  "hf"              the hub default in the table (needs the network and `datasets`)
  "owner/name[:config]"  any hub copy whose rows use one of the schemas the row mappers know
split=None means the benchmark's evaluation split (local "test", "train" for math_train; the hub split in the
table); any other split names the local file <split>.jsonl or the hub split.

Run:  python benchmarks.py   (loads every local benchmark and prints its size and first example)
"""
import hashlib
import json
import os
import random
import re
import warnings
from dataclasses import dataclass, field

LETTERS = "ABCDEFGHIJ"
MATH_FIVE = ("gsm8k", "math500", "minerva_math", "olympiadbench", "aime")  # the paper's math average
PAPER_SIZES = {"gsm8k": 1319, "math500": 500, "minerva_math": 272, "olympiadbench": 675, "aime": 60}
MULTIPLE_CHOICE = ("arc_challenge", "mmlu_stem", "gpqa")  # general QA, science, science (gated)
CODE = ("mbpp",)
MBPP_TESTS_SHOWN = 1
MMLU_STEM_SUBJECTS = frozenset((
    "abstract_algebra", "astronomy", "college_biology", "college_chemistry", "college_computer_science",
    "college_mathematics", "college_physics", "computer_security", "conceptual_physics", "electrical_engineering",
    "elementary_mathematics", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
    "high_school_mathematics", "high_school_physics", "high_school_statistics", "machine_learning"))

# name -> (local folder under the data root, default local split, (hub id, config, split) or None)
SOURCES = {
    "gsm8k": ("gsm8k", "test", ("openai/gsm8k", "main", "test")),
    "math500": ("math500", "test", ("HuggingFaceH4/MATH-500", None, "test")),
    "minerva_math": ("minerva_math", "test", ("math-ai/minervamath", None, "test")),
    "olympiadbench": ("olympiadbench", "test", ("Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train")),
    "aime24": ("aime24", "test", ("HuggingFaceH4/aime_2024", None, "train")),
    "aime25": ("aime25", "test", ("math-ai/aime25", None, "test")),
    "amc23": ("amc23", "test", ("math-ai/amc23", None, "test")),
    "mbpp": ("mbpp", "test", ("google-research-datasets/mbpp", "full", "test")),
    "arc_challenge": ("arc_challenge", "test", ("allenai/ai2_arc", "ARC-Challenge", "test")),
    "mmlu_stem": ("mmlu_stem", "test", ("cais/mmlu", "all", "test")),
    "gpqa": ("gpqa", "test", ("Idavidrein/gpqa", "gpqa_diamond", "train")),
    "math_train": ("math", "train", None),
}
BENCHMARKS = tuple(SOURCES) + ("aime",)
DEFAULT_DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared",
                                "data")


@dataclass
class Example:
    id: str                            # unique within the benchmark, stable across runs
    question: str                      # the text the model sees (options included for multiple choice)
    answer: str | None                 # gold final answer; a letter for multiple choice; None for code
    tests: list[str] | None = None     # code: assert statements
    choices: list[str] | None = None   # multiple choice: option texts, choices[0] is option A
    benchmark: str = ""
    meta: dict = field(default_factory=dict)  # subject, level, solution, test_setup, ...


class RowError(ValueError):
    """A row lacks a field or holds a value we cannot map; the loader adds the file and line."""


# ----------------------------------------------------------------------------- small helpers

def _field(row: dict, *names: str):
    """The first of `names` present (and not None) in `row`: hub copies rename fields, so we accept each spelling."""
    for name in names:
        if row.get(name) is not None:
            return row[name]
    raise RowError(f"missing field {' or '.join(repr(n) for n in names)} (fields present: {sorted(row)})")


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
    if not 2 <= len(options) <= len(LETTERS):
        raise RowError(f"a multiple-choice row needs 2 to {len(LETTERS)} options, got {len(options)}")
    return question.strip() + "\n\n" + "\n".join(f"{LETTERS[i]}. {str(o).strip()}" for i, o in enumerate(options))


def _choice(name: str, i, row_id, question: str, options: list[str], correct: int, meta: dict) -> Example:
    return Example(f"{name}/{row_id if row_id is not None else i}", format_choices(question, options),
                   LETTERS[correct], choices=[str(o).strip() for o in options], benchmark=name, meta=meta)


# ----------------------------------------------------------------------------- one mapper per benchmark
# Each takes (row, index) in the local schema or the hub schema and returns an Example.

def _gsm8k(row, i):
    solution = _field(row, "answer")
    if "####" not in solution:
        raise RowError("field 'answer' has no final '#### <number>' line")
    answer = solution.rsplit("####", 1)[1].strip().replace(",", "")
    return Example(f"gsm8k/{i}", _field(row, "question"), answer, benchmark="gsm8k", meta={"solution": solution})


def _math500(row, i):
    meta = {k: row[k] for k in ("subject", "level", "unique_id", "solution") if k in row}
    return Example(f"math500/{row.get('unique_id', i)}", _field(row, "problem"), str(_field(row, "answer")).strip(),
                   benchmark="math500", meta=meta)


def _boxed_or_answer(row):
    if row.get("answer") is not None:  # some hub copies extracted it already
        return str(row["answer"]).strip()
    answer = last_boxed(_field(row, "solution"))
    if answer is None:
        raise RowError("field 'solution' has no \\boxed{...} final answer")
    return answer


def _minerva_math(row, i):
    meta = {k: row[k] for k in ("type", "solution") if k in row}
    return Example(f"minerva_math/{row.get('idx', i)}", _field(row, "problem", "question"),
                   _boxed_or_answer(row), benchmark="minerva_math", meta=meta)


def _math_train(row, i):
    meta = {k: row[k] for k in ("level", "type", "subject", "unique_id", "solution") if k in row}
    return Example(f"math_train/{row.get('unique_id', i)}", _field(row, "problem"),
                   _boxed_or_answer(row), benchmark="math_train", meta=meta)


def _olympiadbench(row, i):
    final = _field(row, "final_answer")
    parts = final if isinstance(final, list) else [final]
    answer = ", ".join(re.sub(r"(?<!\\)\$", "", str(p)).strip() for p in parts)  # unescaped $ only
    question = _field(row, "question")
    if row.get("context"):  # null in the text-only English set; kept for other subsets
        question = f"{row['context']}\n{question}"
    meta = {"final_answer": final, "is_multiple_answer": bool(row.get("is_multiple_answer", len(parts) > 1))}
    meta.update({k: row[k] for k in ("unit", "answer_type", "subfield", "error") if k in row})
    return Example(f"olympiadbench/{row.get('id', i)}", question, answer, benchmark="olympiadbench", meta=meta)


def _aime24(row, i):
    return Example(f"aime24/{row.get('id', i)}", _field(row, "problem", "question"),
                   _plain_number(_field(row, "answer")), benchmark="aime24", meta={"url": row.get("url")})


def _aime25(row, i):
    return Example(f"aime25/{row.get('id', i)}", _field(row, "problem", "question"),
                   _plain_number(_field(row, "expected_answer", "answer")), benchmark="aime25")


def _amc23(row, i):
    return Example(f"amc23/{row.get('id', i)}", _field(row, "problem", "question"),
                   _plain_number(_field(row, "answer")), benchmark="amc23", meta={"url": row.get("url")})


def mbpp_question(text: str, tests: list[str], shown: int = MBPP_TESTS_SHOWN) -> str:
    noun = "this test" if shown == 1 else "these tests"
    return f"{text.strip()}\nYour code should pass {noun}:\n" + "\n".join(tests[:shown])


def _mbpp(row, i):
    tests = _field(row, "test_list")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) for t in tests):
        raise RowError("field 'test_list' must be a non-empty list of assert strings")
    setup = row.get("test_setup_code") or ""
    if row.get("test_imports"):  # the sanitized set lists its imports separately
        setup = "\n".join(row["test_imports"]) + ("\n" + setup if setup else "")
    text = _field(row, "text", "prompt")  # full set: text; sanitized set: prompt
    meta = {"test_setup": setup, "reference_code": row.get("code"), "task_id": row.get("task_id"),
            "challenge_tests": row.get("challenge_test_list") or []}
    return Example(f"mbpp/{row.get('task_id', i)}", mbpp_question(text, tests), None, tests=list(tests),
                   benchmark="mbpp", meta=meta)


def _arc_challenge(row, i):
    if isinstance(row.get("choices"), dict):  # hub: choices = {"text": [...], "label": [...]}, answerKey
        labels, options = list(row["choices"]["label"]), list(row["choices"]["text"])
        key = _field(row, "answerKey")
    else:  # local copy: one field per label, the labels in order in "label", the key in "answer"
        labels = list(_field(row, "label"))
        options = [_field(row, label) for label in labels]
        key = _field(row, "answer", "answerKey")
    if key not in labels:
        raise RowError(f"answer {key!r} is not one of the option labels {labels}")
    meta = {"labels": labels} if labels != list(LETTERS[:len(labels)]) else {}  # "1".."4" -> A..D by position
    return _choice("arc_challenge", i, row.get("id"), _field(row, "question"), options, labels.index(key), meta)


def _mmlu_stem(row, i):
    options = _field(row, "choices")
    answer = _field(row, "answer")
    index = LETTERS.index(answer) if isinstance(answer, str) and answer in LETTERS else answer
    if not isinstance(index, int) or not 0 <= index < len(options):
        raise RowError(f"answer {answer!r} is not an index into the {len(options)} choices")
    meta = {"subject": row.get("subject", row.get("type"))}
    return _choice("mmlu_stem", i, None, _field(row, "question"), options, index, meta)


def _gpqa(row, i):
    correct = _field(row, "Correct Answer")
    options = [correct] + [_field(row, f"Incorrect Answer {k}") for k in (1, 2, 3)]
    row_id = row.get("Record ID")
    seed = int(hashlib.sha256(str(row_id or _field(row, "Question")).encode()).hexdigest()[:16], 16)
    order = random.Random(seed).sample(range(4), 4)  # order[j] = which original option is shown at letter j
    meta = {"subdomain": row.get("Subdomain"), "domain": row.get("High-level domain")}
    return _choice("gpqa", i, row_id, _field(row, "Question"), [options[k] for k in order], order.index(0), meta)


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
    """Yield (row, 'file, line N') for every non-blank line."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}, line {lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{where}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
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
                           f"Hugging Face hub{how}: {type(e).__name__}: {e}. Offline (HF_DATASETS_OFFLINE=1) or gated? "
                           f"Use a local JSONL copy with source='/path/to/file.jsonl' or ILR_DATA_DIR.") from e
    for i, row in enumerate(rows):
        yield dict(row), f"{hub_id} ({config or 'default'}, {split}) row {i}"


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
    """Load benchmark `name` (one of BENCHMARKS) as a list of Examples; see the module docstring for `source`."""
    _check_name(name)
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of rows or None, got {limit}")
    if name == "aime":  # the paper's one AIME set = 2024 + 2025
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
        rows = _read_hub(name, *_hub_target(name, source, split), source)
    else:
        rows = _read_jsonl(_local_path(name, source, split or SOURCES[name][1]))

    examples, ungradable = [], []
    for index, (row, where) in enumerate(rows):
        if name == "mmlu_stem" and row.get("subject") is not None and row["subject"] not in MMLU_STEM_SUBJECTS:
            continue  # the hub's "all" config holds all 57 subjects
        try:
            ex = MAPPERS[name](row, index)
        except RowError as e:
            raise ValueError(f"{where}: {e} (benchmark {name!r})") from None
        if ex.answer == "":  # e.g. an empty \boxed{} in the source: no answer can be judged right
            ungradable.append(ex.id)
            continue
        examples.append(ex)
        if limit is not None and len(examples) >= limit:
            break
    if ungradable:
        warnings.warn(f"benchmark {name!r}: skipped {len(ungradable)} rows with an empty gold answer: "
                      f"{', '.join(ungradable[:5])}", stacklevel=2)
    ids = [ex.id for ex in examples]
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise ValueError(f"benchmark {name!r}: id {dup!r} occurs twice; ids must be unique")
    return examples


if __name__ == "__main__":
    for bench in BENCHMARKS:
        try:
            loaded = load_benchmark(bench)
        except FileNotFoundError as err:
            print(f"{bench:14s} missing: {str(err)[:100]}...")
            continue
        ex = loaded[0]
        gold = ex.answer if ex.answer is not None else f"{len(ex.tests)} tests"
        print(f"{bench:14s} {len(loaded):6d}  {ex.id:40s} gold={gold!r:.40}  {ex.question[:60]!r}")
