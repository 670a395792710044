"""idea3: prompts, conversations built token by token, and loss masks that cover exactly the agent's own turns."""
import pytest
import torch

import idea3
import models
from tasks import tinyworld

LLAMA3_LIKE = ("{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] | trim }}"
               "<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n"
               "{% endif %}")


@pytest.fixture(scope="module")
def agents():
    out = []
    for name in ("tiny-strong", "tiny-weak"):
        model, tok = models.load(name)
        out.append(idea3.Agent(name, model, tok, models.eos_ids(model, tok), tok.pad_token_id))
    return out


def questions(n):
    return [tinyworld.as_question(p, i, "test") for i, p in enumerate(tinyworld.test_problems(n))]


def own_segments(tokens, mask, eos_ids):
    """The loss-masked tokens of one row, split into turns after each end-of-turn token."""
    turns, cur = [], []
    for t, m in zip(tokens.tolist(), mask.tolist()):
        if m:
            cur.append(t)
            if t in eos_ids:
                turns.append(cur)
                cur = []
        elif cur:
            turns.append(cur)
            cur = []
    return turns + ([cur] if cur else [])


@pytest.mark.parametrize("mode", ["cooperate", "compete"])
def test_loss_mask_is_exactly_the_agents_own_turns(agents, mode):
    qs = questions(3)
    settings = idea3.Settings(group_size=2, max_tokens={"share": 48, "analysis": 48, "fusion": 48})
    eps = idea3.run_episodes(agents, qs, [mode] * 3, settings, [torch.Generator().manual_seed(i) for i in (0, 1)])
    for i, (a, ep) in enumerate(zip(agents, eps)):
        peer = eps[1 - i]
        assert ep.tokens.shape[0] == 6 and ep.loss_mask.shape == ep.tokens.shape
        for n in range(6):
            row, mask = ep.tokens[n], ep.loss_mask[n]
            turns = own_segments(row, mask, a.eos_ids)
            assert len(turns) == 3                                  # share, analysis, fusion
            for stage, ids in zip(("share", "analysis", "fusion"), turns):
                assert len(ids) == int(ep.lengths[stage][n])        # every sampled token, nothing else
                assert a.tokenizer.decode(ids, skip_special_tokens=True).strip() == ep.texts[stage][n]
                assert (ids[-1] in a.eos_ids) != bool(ep.truncated[stage][n])   # the end-of-turn token is trained
            own = a.tokenizer.decode(row[mask.bool()])
            context = a.tokenizer.decode(row[(~mask.bool()) & ep.attention_mask[n].bool()])
            assert "<|im_start|>" not in own and "user" not in own
            for template in (idea3.TINY_ANALYSIS[mode].split("\n")[0], idea3.TINY_FUSION[mode]):
                assert template not in own and template in context
            assert peer.texts["share"][n] in context                # the peer's solution is context, never trained
            assert qs[n // 2]["question"] in context


@pytest.mark.parametrize("spec", ["fusion", "share", "share,fusion", "analysis,share"])
def test_training_only_some_turns(agents, spec):
    chosen = [t for t in idea3.TURNS if t in spec.split(",")]      # the trained turns, in the order they are said
    settings = idea3.Settings(group_size=2, max_tokens={"share": 48, "analysis": 48, "fusion": 48}, train_turns=spec)
    eps = idea3.run_episodes(agents, questions(2), ["cooperate"] * 2, settings, [None, None])
    for a, ep in zip(agents, eps):
        for n in range(4):
            turns = own_segments(ep.tokens[n], ep.loss_mask[n], a.eos_ids)
            assert len(turns) == len(chosen)
            for seg, turn in zip(turns, chosen):
                assert len(seg) == int(ep.lengths[turn][n])
                assert a.tokenizer.decode(seg, skip_special_tokens=True).strip() == ep.texts[turn][n]
            assert ep.start > 0 and ep.loss_mask[:, :ep.start].sum() == 0


@pytest.mark.parametrize("spec", ["", "share,", "shared", "share,share", "all,share"])
def test_train_turns_refuses_what_it_cannot_name(spec):
    with pytest.raises(ValueError, match="comma list of distinct turns"):
        idea3.trained_turns(spec)


def test_one_agent_is_a_solo_episode(agents):
    ep, = idea3.run_episodes(agents[:1], questions(2), ["compete"] * 2, idea3.Settings(group_size=3), [None])
    assert set(ep.texts) == {"share"} and ep.final == ep.texts["share"] and ep.tokens.shape[0] == 6


def test_three_agents_see_every_peer_labelled(agents):
    three = agents + [agents[0]]
    settings = idea3.Settings(group_size=1, max_tokens={"share": 40, "analysis": 40, "fusion": 40})
    eps = idea3.run_episodes(three, questions(1), ["cooperate"], settings, [None] * 3)
    context = three[2].tokenizer.decode(eps[2].tokens[0])
    assert "1:\n" + eps[0].texts["share"][0] in context and "2:\n" + eps[1].texts["share"][0] in context
    text = idea3.analysis_prompt(["A", "B"], "compete", "math")
    assert "[Opponent 1]\nA" in text and "[Opponent 2]\nB" in text and "2 opponents" in text


@pytest.mark.parametrize("template", ["chatml", "llama3"])
def test_turns_concatenate_to_the_chat_template(agents, template):
    """first_turn + reply + next_turn(...) + reply ... renders the same text as the template on the whole chat."""
    tok = agents[0].tokenizer
    if template == "llama3":
        tok = models.load("tiny-strong")[1]
        tok.chat_template = LLAMA3_LIKE
    msgs = [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "12+3=15"},
            {"role": "user", "content": "Partner solution:\n1+1=2"}, {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "Final solution:"}]
    eot = "<|im_end|>" if template == "chatml" else ""   # a reply that stopped on its own ends with end-of-turn
    ids = idea3.first_turn(tok, msgs[:1]) + tok.encode("12+3=15" + eot, add_special_tokens=False)
    ids += idea3.next_turn(tok, msgs[2]["content"], closed=bool(eot))
    ids += tok.encode("ok", add_special_tokens=False)                # a truncated reply: the template closes it
    ids += idea3.next_turn(tok, msgs[4]["content"], closed=False)
    want = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert tok.decode(ids) == want


def test_cut_keeps_head_and_tail(agents):
    tok = agents[0].tokenizer
    text = "\n".join(f"{i}+1={i + 1}" for i in range(10, 60)) + "\nThe answer is \\boxed{60}."
    cut = idea3.cut_to(tok, text, 40)
    assert idea3.CUT in cut and cut.startswith("10+1=11") and cut.endswith("\\boxed{60}.")
    assert len(tok.encode(cut)) <= 40 + len(tok.encode(idea3.CUT)) + 2
    assert idea3.cut_to(tok, "1+1=2", 40) == "1+1=2"


def test_tiny_prompt_words_are_in_the_tokenizer_corpus():
    words = {w for t in list(idea3.TINY_ANALYSIS.values()) + list(idea3.TINY_FUSION.values()) + [idea3.TINY_DEBATE]
             for w in t.replace("{peers}", "").split()}
    assert words <= set(tinyworld.PROMPT_WORDS.split())
