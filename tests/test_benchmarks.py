"""benchmarks.py: real local copies load with the README's row counts; hub rows map; bad input is explained."""
import json
import os
import re

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

def test_unknown_benchmark_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown benchmark 'gsm9k'.*gsm8k.*mbpp"):
        B.load_benchmark("gsm9k")


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


def test_bad_rows_name_file_line_and_field(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps({"problem": "p", "answer": "1"}) + "\n" + json.dumps({"problem": "p2"}) + "\n")
    with pytest.raises(ValueError) as err:
        B.load_benchmark("math500", source=str(path))
    assert f"{path}, line 2" in str(err.value) and "'answer'" in str(err.value)
    path.write_text("{not json\n")
    with pytest.raises(ValueError, match="line 1: not valid JSON"):
        B.load_benchmark("math500", source=str(path))
    path.write_text(json.dumps({"question": "q", "answer": "no final line"}) + "\n")
    with pytest.raises(ValueError, match="line 1.*'####"):
        B.load_benchmark("gsm8k", source=str(path))


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
