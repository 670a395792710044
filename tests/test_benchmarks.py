"""benchmarks.py: real local copies load with the README's row counts; hub rows map; bad input is explained
(file, line and field); the command line prints a summary."""
import json
import os
import re
import subprocess
import sys

import pytest

from tasks import benchmarks as B
from conftest import SHARED_DATA

# rows per benchmark, from ../shared/data/README.md (aime = aime24 + aime25; math_train: 12,000 rows of which
# 2 end in an empty \boxed{} and are skipped)
EXPECTED_ROWS = {"gsm8k": 1319, "math500": 500, "minerva_math": 272, "olympiadbench": 675, "aime24": 30,
                 "aime25": 30, "aime": 60, "amc23": 40, "mbpp": 500, "arc_challenge": 1172, "mmlu_stem": 3018,
                 "math_train": 11998}


def _local(name, **kwargs):
    folder, split, _ = B.SOURCES["aime24" if name == "aime" else name]
    path = os.path.join(SHARED_DATA, folder, f"{split}.jsonl")
    if not os.path.isfile(path):
        pytest.skip(f"no local copy at {path}")
    if name == "aime":
        return B.load_benchmark(name, **kwargs)  # needs the default data folder
    return B.load_benchmark(name, source=SHARED_DATA, **kwargs)


@pytest.fixture
def shared_data_env(monkeypatch):
    monkeypatch.setenv("ILR_DATA_DIR", SHARED_DATA)


# ----------------------------------------------------------------------------- real data

@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
@pytest.mark.filterwarnings("ignore:benchmark 'math_train'")
def test_local_benchmark_loads_with_readme_row_count(name, shared_data_env):
    examples = _local(name)
    assert len(examples) == EXPECTED_ROWS[name]
    assert len({ex.id for ex in examples}) == len(examples)
    for ex in examples:
        assert isinstance(ex.question, str) and ex.question.strip(), ex.id
        assert ex.benchmark == name and ex.id.split("/")[0] in (name, "aime24", "aime25")
        if name in B.CODE:
            assert ex.answer is None and ex.tests and all(t.strip().startswith("assert") for t in ex.tests)
            assert ex.tests[0] in ex.question  # the prompt shows the first test
        elif name in B.MULTIPLE_CHOICE:
            assert ex.answer in B.LETTERS[:len(ex.choices)]
            assert f"\n{ex.answer}. {ex.choices[B.LETTERS.index(ex.answer)]}" in ex.question
        else:
            assert isinstance(ex.answer, str) and ex.answer and ex.tests is None and ex.choices is None, ex.id


def test_paper_math_set_sizes(shared_data_env):
    for name in B.MATH_FIVE:
        assert len(_local(name)) == B.PAPER_SIZES[name]


def test_real_rows_have_the_documented_quirks_handled(shared_data_env):
    assert _local("gsm8k")[0].answer == "18"
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", ex.answer) for ex in _local("gsm8k"))  # commas gone
    aime24 = _local("aime24")
    assert "23" in [ex.answer for ex in aime24] and not any(ex.answer.startswith("0") for ex in aime24)
    assert _local("amc23")[0].answer == "27"
    assert _local("minerva_math")[0].answer == "1.6"
    olympiad = _local("olympiadbench")
    assert sum(ex.meta["is_multiple_answer"] for ex in olympiad) == 94
    assert not any("$" in ex.answer for ex in olympiad)
    arc = {ex.id: ex for ex in _local("arc_challenge")}
    numeric = arc["arc_challenge/NYSEDREGENTS_2008_8_34"]  # labels "1".."4", answer "2"
    assert numeric.answer == "B" and numeric.choices[1].startswith("Kinetic energy increases")
    assert sum("labels" in ex.meta for ex in arc.values()) == 22
    assert len({ex.meta["subject"] for ex in _local("mmlu_stem")}) == 18
    mbpp = _local("mbpp")
    assert [ex.meta["task_id"] for ex in mbpp] == list(range(11, 511))
    assert [ex.id for ex in mbpp if ex.meta["test_setup"]] == ["mbpp/367"]
    with pytest.warns(UserWarning, match="skipped 2 rows.*number_theory/7115.json"):
        math_train = _local("math_train")
    assert sum(ex.meta["unique_id"].startswith("train/") for ex in math_train) == 7500 - 2
    assert math_train[0].answer == "0"


def test_aime_is_both_years(shared_data_env):
    aime = _local("aime")
    assert [ex.meta["year_set"] for ex in aime] == ["aime24"] * 30 + ["aime25"] * 30
    assert {ex.benchmark for ex in aime} == {"aime"}


def test_sources_env_file_folder_and_limit(shared_data_env):
    path = os.path.join(SHARED_DATA, "amc23", "test.jsonl")
    if not os.path.isfile(path):
        pytest.skip("no amc23 copy")
    by_env = B.load_benchmark("amc23")
    assert len(by_env) == 40
    assert B.load_benchmark("amc23", source=path) == by_env
    assert B.load_benchmark("amc23", source=os.path.dirname(path)) == by_env
    assert B.load_benchmark("amc23", limit=5) == by_env[:5]


# ----------------------------------------------------------------------------- hub schemas, rows written inline

def test_hub_rows_of_math_sets_map():
    ex = B.to_example("gsm8k", {"question": "How many?", "answer": "2 + 2 = <<2+2=4>>4\n#### 1,234"}, 7)
    assert (ex.id, ex.answer) == ("gsm8k/7", "1234")
    ex = B.to_example("math500", {"problem": "p", "solution": "s $\\boxed{5}$", "answer": "5", "subject": "Algebra",
                                  "level": 2, "unique_id": "test/algebra/1.json"})
    assert (ex.id, ex.answer, ex.meta["level"]) == ("math500/test/algebra/1.json", "5", 2)
    ex = B.to_example("minerva_math", {"question": "q", "answer": "1.6"})  # math-ai/minervamath
    assert ex.answer == "1.6"
    ex = B.to_example("olympiadbench", {"id": 3, "question": "q", "final_answer": ["$3$", "$5$"], "context": None,
                                        "is_multiple_answer": True, "unit": None, "answer_type": "Numerical"})
    assert (ex.answer, ex.meta["is_multiple_answer"]) == ("3, 5", True)
    ex = B.to_example("aime24", {"id": 60, "problem": "p", "solution": "s", "answer": "023", "url": "u",
                                 "year": "2024"})
    assert (ex.id, ex.answer) == ("aime24/60", "23")
    assert B.to_example("aime25", {"id": "0", "problem": "p", "answer": "070"}).answer == "70"  # math-ai/aime25
    assert B.to_example("amc23", {"id": 0, "question": "q", "answer": 27.0, "url": "u"}).answer == "27"
    assert B.to_example("amc23", {"id": 1, "question": "q", "answer": 2.5}).answer == "2.5"


def test_hub_rows_of_mbpp_map():
    full = {"task_id": 11, "text": "Write f.", "code": "def f(): return 1", "test_list": ["assert f() == 1"] * 3,
            "test_setup_code": "", "challenge_test_list": []}
    ex = B.to_example("mbpp", full)
    assert ex.id == "mbpp/11" and ex.question.startswith("Write f.\n") and ex.question.endswith("assert f() == 1")
    sanitized = {"source_file": "x", "task_id": 2, "prompt": "Write g.", "code": "import math\ndef g(): return 1",
                 "test_imports": ["import math"], "test_list": ["assert g() == 1"]}
    ex = B.to_example("mbpp", sanitized)
    assert ex.meta["test_setup"] == "import math" and ex.tests == ["assert g() == 1"]


def test_hub_rows_of_multiple_choice_map():
    arc = {"id": "x1", "question": "Which?", "choices": {"text": ["a", "b", "c", "d"], "label": ["1", "2", "3", "4"]},
           "answerKey": "2"}
    ex = B.to_example("arc_challenge", arc)
    assert ex.answer == "B" and ex.question == "Which?\n\nA. a\nB. b\nC. c\nD. d" and ex.choices == list("abcd")
    mmlu = {"question": "What?", "subject": "astronomy", "choices": ["w", "x", "y", "z"], "answer": 2}
    ex = B.to_example("mmlu_stem", mmlu, 4)
    assert (ex.answer, ex.choices[2], ex.meta["subject"], ex.id) == ("C", "y", "astronomy", "mmlu_stem/4")


def _gpqa_row(record_id):
    return {"Question": "Which particle?", "Correct Answer": "right", "Incorrect Answer 1": "w1",
            "Incorrect Answer 2": "w2", "Incorrect Answer 3": "w3", "Record ID": record_id, "Subdomain": "Physics"}


def test_gpqa_options_are_shuffled_stably():
    letters = []
    for k in range(20):
        ex = B.to_example("gpqa", _gpqa_row(f"rec{k}"))
        assert ex.choices[B.LETTERS.index(ex.answer)] == "right" and sorted(ex.choices) == ["right", "w1", "w2", "w3"]
        assert B.to_example("gpqa", _gpqa_row(f"rec{k}")) == ex  # same row, same letter, every run
        letters.append(ex.answer)
    assert len(set(letters)) > 1  # the hub's "correct answer first" order is not kept


def test_hub_loading_filters_mmlu_to_stem(monkeypatch):
    seen = {}

    def fake_hub(name, hub_id, config, split, source):
        seen.update(hub_id=hub_id, config=config, split=split)
        for i, subject in enumerate(["astronomy", "world_religions", "machine_learning"]):
            yield {"question": f"q{i}", "subject": subject, "choices": list("wxyz"), "answer": i}, f"row {i}"

    monkeypatch.setattr(B, "_read_hub", fake_hub)
    examples = B.load_benchmark("mmlu_stem", source="hf")
    assert seen == {"hub_id": "cais/mmlu", "config": "all", "split": "test"}
    assert [ex.meta["subject"] for ex in examples] == ["astronomy", "machine_learning"]
    assert B._hub_target("olympiadbench", "Hothan/OlympiadBench", None) == (
        "Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train")
    assert B._hub_target("gsm8k", "someone/gsm8k-copy:main", "train") == ("someone/gsm8k-copy", "main", "train")


def test_last_boxed():
    assert B.last_boxed("so $\\boxed{\\frac{1}{2}}$ and not \\boxed{3}.") == "3"
    assert B.last_boxed("first \\boxed{a} then $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$") == \
        "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert B.last_boxed("our answer is $\\boxed 2$.") == "2"
    assert B.last_boxed("no box here") is None and B.last_boxed("\\boxed{unclosed") is None


# ----------------------------------------------------------------------------- errors

def test_unknown_benchmark_fails_before_any_loading(monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("an unknown name must be rejected before any file or hub is read")

    for reader in ("_local_path", "_read_jsonl", "_read_hub"):
        monkeypatch.setattr(B, reader, no_reading)
    for source in (None, "hf", "/no/such/file.jsonl", "someone/gsm9k"):
        with pytest.raises(ValueError, match="unknown benchmark 'gsm9k'; known: gsm8k, math500, .*mbpp.*aime$"):
            B.load_benchmark("gsm9k", source=source)
    with pytest.raises(ValueError, match="unknown benchmark 'MBPP'"):  # names are case-sensitive
        B.to_example("MBPP", {})
    with pytest.raises(ValueError, match="unknown benchmark 'gsm9k'"):
        B.main(["gsm8k", "gsm9k"])  # the command line checks every name before printing anything


def test_missing_local_file_says_where_and_how(monkeypatch, tmp_path):
    monkeypatch.setenv("ILR_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        B.load_benchmark("math500")
    message = str(err.value)
    assert str(tmp_path / "math500" / "test.jsonl") in message
    assert "ILR_DATA_DIR" in message and "source=" in message and "HuggingFaceH4/MATH-500" in message
    with pytest.raises(FileNotFoundError, match="gated"):
        B.load_benchmark("gpqa")
    with pytest.raises(FileNotFoundError, match="not a file"):
        B.load_benchmark("math500", source=str(tmp_path / "nowhere.jsonl"))


def _write_rows(path, *rows):
    """One line per row: a dict is written as JSON, a str as written (blank lines count in line numbers)."""
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def test_empty_file_names_the_file_and_what_to_do(tmp_path):
    for content in ("", "\n  \n\n"):
        path = tmp_path / "test.jsonl"
        path.write_text(content)
        with pytest.raises(ValueError) as err:
            B.load_benchmark("gsm8k", source=str(path))
        assert f"{path}: no rows" in str(err.value) and "one JSON object per line" in str(err.value)


def test_file_with_no_usable_row_is_an_error(tmp_path):
    path = _write_rows(tmp_path / "mmlu.jsonl", *({"question": "q", "subject": "world_religions",
                                                   "choices": list("wxyz"), "answer": 0} for _ in range(3)))
    with pytest.raises(ValueError, match=r"mmlu.jsonl: none of its 3 rows can be used \(3 outside the 18 MMLU STEM"):
        B.load_benchmark("mmlu_stem", source=path)
    path = _write_rows(tmp_path / "math.jsonl", {"problem": "p", "solution": "so \\boxed{}"})
    with pytest.raises(ValueError, match=r"math.jsonl: none of its 1 rows.*1 with an empty gold answer"):
        B.load_benchmark("math_train", source=path)


GOOD_GSM8K = {"question": "q", "answer": "1 + 1 = 2\n#### 2"}


@pytest.mark.parametrize("name, good, bad, message", [
    ("gsm8k", GOOD_GSM8K, {"question": "q"}, "field 'answer' missing (fields present: question)"),
    ("gsm8k", GOOD_GSM8K, {"question": "q", "answer": 5}, "field 'answer' is not a string (got int 5)"),
    ("gsm8k", GOOD_GSM8K, {"question": ["q"], "answer": "#### 2"}, "field 'question' is not a string (got list"),
    ("gsm8k", GOOD_GSM8K, {"question": "  ", "answer": "#### 2"}, "field 'question' is empty"),
    ("gsm8k", GOOD_GSM8K, {"question": "q", "answer": "no final line"}, "'answer' has no final '#### <number>'"),
    ("math500", {"problem": "p", "answer": "1"}, {"problem": "p", "answer": ["1"]},
     "field 'answer' is not a string or a number (got list"),
    ("amc23", {"problem": "p", "answer": 27.0}, {"problem": "p", "answer": True}, "not a string or a number"),
    ("olympiadbench", {"question": "q", "final_answer": ["$2$"]}, {"question": "q", "final_answer": [{"a": 1}]},
     "field 'final_answer' (an element) is not a string or a number"),
    ("minerva_math", {"problem": "p", "solution": "\\boxed{1}"}, {"problem": "p", "solution": 1},
     "field 'solution' is not a string"),
    ("mmlu_stem", {"question": "q", "choices": list("wxyz"), "answer": 1},
     {"question": "q", "choices": list("wxyz"), "answer": "1"}, "field 'answer' is str '1', not an index into the 4"),
    ("mmlu_stem", {"question": "q", "choices": list("wxyz"), "answer": 1},
     {"question": "q", "choices": "wxyz", "answer": 1}, "field 'choices' is not a list of options"),
    ("arc_challenge", {"question": "q", "label": ["A", "B"], "A": "a", "B": "b", "answer": "A"},
     {"question": "q", "label": ["A", "B"], "A": "a", "answer": "A"}, "field 'B' missing"),
    ("mbpp", {"text": "t", "test_list": ["assert f()"]}, {"text": "t", "test_list": "assert f()"},
     "field 'test_list' is not a non-empty list of assert strings (got str"),
    ("mbpp", {"text": "t", "test_list": ["assert f()"]}, {"text": "t", "test_list": ["assert f()"],
                                                          "test_setup_code": ["x = 1"]},
     "field 'test_setup_code' is not a string"),
])
def test_bad_row_names_file_line_and_field(tmp_path, name, good, bad, message):
    path = _write_rows(tmp_path / "test.jsonl", good, "", bad)  # the bad row is on line 3
    B.to_example(name, good)  # the good row is fine on its own
    with pytest.raises(ValueError) as err:
        B.load_benchmark(name, source=path)
    assert str(err.value).startswith(f"{path} line 3: ") and message in str(err.value), str(err.value)
    assert "first row" not in str(err.value)


def test_bad_first_row_asks_whether_it_is_the_right_file(tmp_path):
    path = _write_rows(tmp_path / "test.jsonl", {"problem": "p", "solution": "\\boxed{1}"})  # a MATH row
    with pytest.raises(ValueError, match=r"line 1: field 'answer' missing .*is .*test.jsonl a 'gsm8k' file\?"):
        B.load_benchmark("gsm8k", source=path)


def test_unexpected_values_still_name_file_and_line(tmp_path, monkeypatch):
    def broken_mapper(row, i):
        return row["nothing"]  # a KeyError no check foresaw

    monkeypatch.setitem(B.MAPPERS, "gsm8k", broken_mapper)
    path = _write_rows(tmp_path / "test.jsonl", GOOD_GSM8K)
    with pytest.raises(ValueError, match=r"test.jsonl line 1: cannot map this row \(KeyError: 'nothing'\)") as err:
        B.load_benchmark("gsm8k", source=path)
    assert isinstance(err.value.__cause__, KeyError)  # the original error stays attached for debugging


@pytest.mark.parametrize("line, message", [
    ("{not json", r"line 2: not valid JSON \(Expecting property name"),
    ('["a JSON list"]', "line 2: expected a JSON object {...}, got a JSON list; write one JSON object per line"),
    ("17", "line 2: expected a JSON object {...}, got a JSON int"),
    ("version https://git-lfs.github.com/spec/v1", "line 2: not valid JSON .*Git LFS pointer"),
])
def test_malformed_line_names_file_and_line(tmp_path, line, message):
    path = _write_rows(tmp_path / "test.jsonl", GOOD_GSM8K, line)
    with pytest.raises(ValueError, match=f"^{re.escape(path)} {message}"):
        B.load_benchmark("gsm8k", source=path)


def test_a_json_array_file_and_bad_bytes_are_explained(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps([GOOD_GSM8K], indent=1))
    with pytest.raises(ValueError, match="line 1: not valid JSON.*one JSON array: write one JSON object per line"):
        B.load_benchmark("gsm8k", source=str(path))
    path.write_bytes(json.dumps(GOOD_GSM8K).encode() + b"\n" + b'{"question": "caf\xe9"}\n')
    with pytest.raises(ValueError, match="line 2: not UTF-8 text"):
        B.load_benchmark("gsm8k", source=str(path))
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD_GSM8K).encode() + b"\n")  # a leading BOM is fine
    assert B.load_benchmark("gsm8k", source=str(path))[0].answer == "2"


def test_mbpp_test_imports_as_a_string_is_one_block_of_import_code(tmp_path):
    row = {"task_id": 2, "prompt": "Write g.", "test_list": ["assert g() == 1"], "test_setup_code": "x = 1"}
    as_list = B.to_example("mbpp", {**row, "test_imports": ["import math", "import re"]})
    assert as_list.meta["test_setup"] == "import math\nimport re\nx = 1"
    assert B.to_example("mbpp", {**row, "test_imports": "import math\nimport re"}).meta == as_list.meta
    assert B.to_example("mbpp", {**row, "test_imports": "import math"}).meta["test_setup"] == "import math\nx = 1"
    assert B.to_example("mbpp", {**row, "test_imports": ""}).meta["test_setup"] == "x = 1"
    # a list that was saved as its text would run as a harmless expression and import nothing: refuse it
    path = _write_rows(tmp_path / "sanitized.jsonl", {**row, "test_imports": []},
                       {**row, "task_id": 3, "test_imports": "['import math']"})
    with pytest.raises(ValueError, match=r"line 2: field 'test_imports' holds \"\['import math'\]\", which is not "
                                         r"Python import statements"):
        B.load_benchmark("mbpp", source=path)
    for bad, message in ((["x = 1"], "not Python import statements"), ([1], "not a list of import lines"),
                         ({"math": 1}, "not a list of import lines")):
        with pytest.raises(B.RowError, match=message):
            B.to_example("mbpp", {**row, "test_imports": bad})


def test_real_sanitized_mbpp_imports_run_before_the_tests():
    path = os.path.join(SHARED_DATA, "mbpp", "sanitized.jsonl")
    if not os.path.isfile(path):
        pytest.skip(f"no local copy at {path}")
    rows = B.load_benchmark("mbpp", source=path)
    assert len(rows) == 427 and sum(ex.meta["test_setup"] == "import math" for ex in rows) == 13


def test_command_line_summary_and_full_example(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ILR_DATA_DIR", str(tmp_path))
    (tmp_path / "amc23").mkdir()
    _write_rows(tmp_path / "amc23" / "test.jsonl", {"id": 0, "problem": "How far?", "answer": 27.0},
                {"id": 1, "problem": "How long?", "answer": 2.5})
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text("")
    assert B.main([]) == 1  # the empty gsm8k file is an error; missing files are not
    out = capsys.readouterr().out
    assert f"data folder: {tmp_path}" in out
    assert re.search(r"amc23 +2  amc23/0 +gold='27'", out)
    assert re.search(r"gsm8k +ERROR .*no rows", out) and re.search(r"gpqa +missing", out)
    assert B.main(["amc23"]) == 0
    assert "=== amc23/0" in capsys.readouterr().out


def test_runs_as_a_module(tmp_path):
    (tmp_path / "amc23").mkdir()
    _write_rows(tmp_path / "amc23" / "test.jsonl", {"id": 0, "problem": "How far?", "answer": 27.0})
    root = os.path.dirname(os.path.dirname(os.path.abspath(B.__file__)))
    env = {**os.environ, "ILR_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "tasks", "amc23"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--- answer: '27'" in done.stdout, done.stderr


def test_bad_arguments():
    with pytest.raises(ValueError, match="limit"):
        B.load_benchmark("gsm8k", limit=0)
    with pytest.raises(ValueError, match="aime24"):
        B.load_benchmark("aime", source="/some/file.jsonl")
    with pytest.raises(ValueError, match="no default hub copy"):
        B.load_benchmark("math_train", source="hf")


def test_unreachable_hub_is_explained():
    # conftest sets HF_DATASETS_OFFLINE=1: the real datasets.load_dataset call fails fast, and we say what to do
    with pytest.raises(RuntimeError, match="read as a hub id.*local JSONL"):
        B.load_benchmark("gsm8k", source="ilr-test/no-such-dataset")
