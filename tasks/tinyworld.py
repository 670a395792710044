"""The tiny world: arithmetic word problems whose worked solutions, analyses and fusions a 1M-parameter model can learn.

    "Mia has 68 coins. She finds 17 more. She gives away 29. How many coins does Mia have now?"
    solution (share):   1. 68+17=85 / 2. 85-29=56 / The answer is \\boxed{56}.   (numbered steps, values in 0..99)
    analysis of a peer: 1. 68+17=85, I get 85: right / 2. 85-29=56, I get 66: wrong   (the peer's line, redone)
    fusion:             a full solution that takes the peer's line k where the check confirmed it

The systematic flaw: each tiny model writes one KIND of step wrong with probability FLAW_RATE = 0.7, everywhere it
computes (solving, checking, fusing): the strong model forgets the borrow (a-b with a%10 < b%10 gives a-b+10), the
weak one the carry (a+b with a%10+b%10 >= 10 gives a+b-10). Greedy decoding then fails every problem with that
step; sampling is sometimes right: room for RL. Each catches the other's slips, so a discussion can really help.

Cooperation and competition differ in what the analysis looks at and what the fusion keeps (write_analysis,
write_fusion): a partner checks the peer's lines in order up to the first wrong one and builds on the confirmed
lines; an opponent checks only the first line where the peer differs from it and keeps its own line unless the
check concedes the peer's. With the flaw at 0.7 and a correct peer, a flawed step ends right with probability
0.3 + 0.7 x 0.3 = 0.51 after the discussion, against 0.3 alone.

Splits (disjoint by question text): test_problems (held out, 500), validation_problems (abilities, 500),
train_split (RL questions), and an endless train_problems stream (warm start). Models: experiments/warmstart.py.
"""
import os
import random
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the repository (this file is in tasks/)
ASSETS = os.path.join(ROOT, "assets", "tinyworld")
FLAW_RATE = 0.7          # how often the flawed kind of step is written wrong, wherever the model computes it
TEST_SEED, VALIDATION_SEED, TRAIN_SEED = 1234, 4321, 2468   # the splits' seeds (disjoint by question text)
TRAIN_SIZE = 2000        # questions in the finite RL training split
SPECIALS = ["<|pad|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (  # ChatML, the format of Qwen and SmolLM2
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NAMES = ["Mia", "Tom", "Ana", "Ben", "Lea", "Sam", "Ivy", "Max", "Zoe", "Leo", "Ada", "Kai"]
PRONOUN = {n: ("She" if n in {"Mia", "Ana", "Lea", "Ivy", "Zoe", "Ada"} else "He") for n in NAMES}
THINGS = ["apples", "coins", "stamps", "books", "shells", "marbles", "cards", "pens"]
ADD_VERBS = ["finds {} more", "buys {} more", "gets {} more", "is given {} more"]
SUB_VERBS = ["gives away {}", "loses {}", "sells {}", "uses {}"]
# The words of idea3.py's tiny-world prompts (tests/test_idea3.py keeps the two in sync), in the tokenizer corpus.
PROMPT_WORDS = ("Partner solution: Check each line. Opponent solution: Find the flaws. Final solution: "
                "Defend or fix: Other solutions: No difference. I get right wrong")
MODELS = {  # name -> (architecture, config overrides, flaw)
    "tiny-strong": ("qwen2", dict(hidden_size=128, num_hidden_layers=4, intermediate_size=512), "borrow"),
    "tiny-weak": ("llama", dict(hidden_size=96, num_hidden_layers=4, intermediate_size=384), "carry"),
}
MODELS["inverse-strong"], MODELS["inverse-weak"] = MODELS["tiny-strong"], MODELS["tiny-weak"]
# Two worlds, the same problems: how an agent checks a peer's line, and how often its flawed kind of step slips.
#   redo:    re-do the peer's line with its own arithmetic: a right line reaches the fusion only through the checker's
#            own (flawed) skill, so the discussion re-samples what the agent could do alone.
#   inverse: check the line by the inverse operation (85-29=56 is checked as 56+29=85): a borrow becomes a carry, so
#            each agent checks its flawed kind of step with the arithmetic it does right. Verifying is easier than
#            solving, as with real models, and a peer can hand over what the agent rarely produces (0.1 alone).
#            The check slips less often than the solver (check_rate): with the solver's 0.9, the inverse of a
#            partner's carry slip (58+6=54 -> 54-6, a borrow) would confirm the slip 9 times in 10.
WORLDS = {"redo": {"check": "redo", "flaw_rate": FLAW_RATE, "check_rate": FLAW_RATE,
                   "models": ("tiny-strong", "tiny-weak")},
          "inverse": {"check": "inverse", "flaw_rate": 0.9, "check_rate": 0.1,
                      "models": ("inverse-strong", "inverse-weak")}}


def world_of(name: str) -> str:
    """The world a tiny model lives in (the one its warm start taught it)."""
    return next(w for w, spec in WORLDS.items() if name in spec["models"])

# ----------------------------------------------------------------------------------------------------------------
# Problems and worked solutions

def make_problem(rng: random.Random) -> dict:
    """One word problem: {'question', 'start', 'ops': [(op, n), ...], 'answer'}; every value stays in 0..99."""
    while True:
        value = rng.randint(2, 99)
        start, ops = value, []
        for _ in range(rng.choice([2, 3])):
            op = rng.choice("+-")
            n = rng.randint(1, 99 - value) if op == "+" and value < 99 else rng.randint(1, max(1, value))
            if op == "+" and value + n > 99 or op == "-" and n > value:
                break
            value = value + n if op == "+" else value - n
            ops.append((op, n))
        if len(ops) >= 2:
            break
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    parts = [f"{name} has {start} {thing}."]
    for op, n in ops:
        verb = rng.choice(ADD_VERBS if op == "+" else SUB_VERBS).format(n)
        parts.append(f"{PRONOUN[name]} {verb}.")
    parts.append(f"How many {thing} does {name} have now?")
    return {"question": " ".join(parts), "start": start, "ops": ops, "answer": value}


def is_flaw_step(flaw: str, a: int, op: str, b: int) -> bool:
    """Is 'a op b' the kind of step this flaw gets wrong?"""
    if flaw == "borrow":
        return op == "-" and a % 10 < b % 10
    if flaw == "carry":
        return op == "+" and a % 10 + b % 10 >= 10
    return False


def has_flaw_step(problem: dict, flaw: str) -> bool:
    """Does the correct solution of this problem contain a step of the flawed kind?"""
    value = problem["start"]
    for op, n in problem["ops"]:
        if is_flaw_step(flaw, value, op, n):
            return True
        value = value + n if op == "+" else value - n
    return False


def step(a: int, op: str, b: int, flaw: str | None = None, rng: random.Random | None = None,
         rate: float = FLAW_RATE) -> int:
    """a op b as a model with this flaw computes it: the flawed kind of step slips with probability `rate`."""
    result = a + b if op == "+" else a - b
    if flaw and rng is not None and is_flaw_step(flaw, a, op, b) and rng.random() < rate:
        result += 10 if op == "-" else -10      # forgot the borrow / forgot the carry
    return result if 0 <= result <= 99 else a + b if op == "+" else a - b   # a slip never leaves 0..99


def solution_text(lines: list[tuple]) -> str:
    """[(a, op, b, c), ...] -> the worked-solution text: numbered lines, then the boxed answer."""
    body = "\n".join(f"{k}. {a}{op}{b}={c}" for k, (a, op, b, c) in enumerate(lines, 1))
    return f"{body}\nThe answer is \\boxed{{{lines[-1][3]}}}."


def write_solution(problem: dict, flaw: str | None = None, rng: random.Random | None = None,
                   rate: float = FLAW_RATE) -> str:
    """The worked solution; each step of the flawed kind slips with probability `rate`, and a slip propagates."""
    lines, value = [], problem["start"]
    for op, n in problem["ops"]:
        result = step(value, op, n, flaw, rng, rate)
        lines.append((value, op, n, result))
        value = result
    return solution_text(lines)


LINE = re.compile(r"^\s*(?:\d+\.\s*)?(\d{1,3})\s*([+-])\s*(\d{1,3})\s*=\s*(\d{1,3})\s*$", re.M)
# a check line of either world: "2. 85-29=56, I get 56: right" (redo) or "2. 85-29=56, I get 56+29=85: right"
CHECK = re.compile(r"^\s*(\d+)\.\s*(\d{1,3})([+-])(\d{1,3})=(\d{1,3}), I get (?:\d{1,3}[+-]\d{1,3}=)?(-?\d{1,4}): "
                   r"(right|wrong)", re.M)


def parse_lines(text: str) -> list[tuple]:
    """The 'k. a+b=c' lines of a solution as (a, op, b, c) tuples, in order (anything else is ignored)."""
    return [(int(a), op, int(b), int(c)) for a, op, b, c in LINE.findall(text)]


def check_line(k: int, line: tuple, flaw: str | None, rng: random.Random | None, rate: float,
               check: str = "redo") -> str:
    """The check of the peer's line k = (a, op, b, c), with the checker's own arithmetic (its flaw included):
      redo:    'k. a op b=c, I get X: right'          X = a op b redone; right when X = c (a local compare)
      inverse: 'k. a op b=c, I get c inv b=Y: right'  Y = c inv b, the inverse operation; right when Y = a
    The inverse of a borrow is a carry (85-29=56: 56+29=85) and the other way round, so in the inverse world an
    agent checks its own flawed kind of step with the arithmetic it does right."""
    a, op, b, c = line
    if check == "redo":
        x = step(a, op, b, flaw, rng, rate)
        return f"{k}. {a}{op}{b}={c}, I get {x}: {'right' if x == c else 'wrong'}"
    inv = "-" if op == "+" else "+"
    y = step(c, inv, b, flaw, rng, rate)
    return f"{k}. {a}{op}{b}={c}, I get {c}{inv}{b}={y}: {'right' if y == a else 'wrong'}"


def write_analysis(own: str, peer: str, mode: str, flaw: str | None, rng: random.Random | None,
                   rate: float = FLAW_RATE, check: str = "redo") -> str:
    """The analysis turn: check the peer's lines with the checker's own arithmetic (and its own flaw), by redoing
    them or by the inverse operation (`check`, the world's way; check_line).

    cooperate (a partner): check the peer's lines in order, up to and including the first one found wrong (the
    lines after it start from a wrong value).  compete (an opponent): check only the first line where the peer
    wrote something different from the agent's own line; "No difference." when there is none.
    """
    mine, theirs = parse_lines(own), parse_lines(peer)
    out = []
    for k, line in enumerate(theirs, 1):
        if mode == "compete" and k <= len(mine) and mine[k - 1] == line:
            continue
        out.append(check_line(k, line, flaw, rng, rate, check))
        if mode == "compete" or out[-1].endswith("wrong"):
            break
    return "\n".join(out) if out else "No difference."


def write_fusion(problem: dict, own: str, peer: str, analysis: str, mode: str, flaw: str | None,
                 rng: random.Random | None, rate: float = FLAW_RATE) -> str:
    """The final solution, step k from the current value v, using the check of line k when it starts from v:
      cooperate: a check that came out 'right' confirms the partner's line: take it; otherwise work it out again.
      compete:   a check that came out 'right' concedes the opponent's line: take it; otherwise keep the agent's
                 own line k when it starts from v; otherwise work it out again.
    Working a step out again applies the agent's own flaw, as everywhere."""
    mine = parse_lines(own)
    checks = {int(k): (int(a), op, int(b), int(c), verdict) for k, a, op, b, c, _, verdict in CHECK.findall(analysis)}
    lines, v = [], problem["start"]
    for k, (op, b) in enumerate(problem["ops"], 1):
        check = checks.get(k)
        if check and check[:3] == (v, op, b) and check[4] == "right":
            c = check[3]
        elif mode == "compete" and k <= len(mine) and mine[k - 1][:3] == (v, op, b):
            c = mine[k - 1][3]
        else:
            c = step(v, op, b, flaw, rng, rate)
        lines.append((v, op, b, c))
        v = c
    return solution_text(lines)


def _unique(seed: int, n: int, exclude: set) -> list[dict]:
    rng, seen, out = random.Random(seed), set(exclude), []
    while len(out) < n:
        p = make_problem(rng)
        if p["question"] not in seen:
            seen.add(p["question"])
            out.append(p)
    return out


def test_problems(n: int = 500) -> list[dict]:
    """The held-out problems (fixed seed): solo accuracy is measured here, nothing trains on them."""
    return _unique(TEST_SEED, n, set())


def validation_problems(n: int = 500) -> list[dict]:
    """The validation split (the paper measures abilities on one): disjoint from the first 2000 test problems."""
    return _unique(VALIDATION_SEED, n, {p["question"] for p in test_problems(2000)})


def train_split(n: int = TRAIN_SIZE) -> list[dict]:
    """The finite RL training split: disjoint from the test and validation problems."""
    held_out = {p["question"] for p in test_problems(2000) + validation_problems()}
    return _unique(TRAIN_SEED, n, held_out)


def train_problems(seed: int):
    """An endless stream for the warm start that never repeats a held-out question (test or validation)."""
    held_out = {p["question"] for p in test_problems(2000) + validation_problems()}
    rng = random.Random(seed)
    while True:
        p = make_problem(rng)
        if p["question"] not in held_out:
            yield p


def as_question(p: dict, i: int, split: str) -> dict:
    """A problem as the question dict train.py and evaluate.py use: {id, question, answer, benchmark}."""
    return {"id": f"{split}-{i}", "question": p["question"], "answer": str(p["answer"]), "benchmark": "tinyworld"}


# ----------------------------------------------------------------------------------------------------------------
# Tokenizer and models

def build_tokenizer(path: str):
    """Train a byte-level BPE on the world's text, wrap it as a Hugging Face tokenizer, save it to path."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    corpus = []
    for _ in range(3000):
        p = make_problem(rng)
        own, peer = write_solution(p, "borrow", rng), write_solution(p, "carry", rng)
        corpus += [p["question"], own, peer, write_analysis(own, peer, "cooperate", "borrow", rng)]
    corpus += [PROMPT_WORDS] * 200   # so that the dialogue turns tokenize compactly
    tok = Tokenizer(models.BPE())
    # Digits are split one per token (so arithmetic is done digit by digit), then bytes for everything else.
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|pad|>", eos_token="<|im_end|>",
                                 bos_token=None, unk_token=None, chat_template=CHAT_TEMPLATE,
                                 padding_side="left", model_max_length=512)
    hf.save_pretrained(path)
    return hf


def new_model(arch: str, tokenizer, **overrides):
    """A freshly initialised Qwen2 or Llama causal LM sized for the tiny world (also used by the tests)."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
    cfg = dict(vocab_size=len(tokenizer), hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
               num_key_value_heads=2, intermediate_size=512, max_position_embeddings=512, tie_word_embeddings=True,
               pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    cfg.update(overrides)
    if arch == "qwen2":
        return Qwen2ForCausalLM(Qwen2Config(**cfg))
    if arch == "llama":
        return LlamaForCausalLM(LlamaConfig(**cfg))
    raise ValueError(f"unknown tiny architecture {arch!r}; use 'qwen2' or 'llama'")


if __name__ == "__main__":
    rng = random.Random(0)
    p = test_problems(1)[0]
    own, peer = write_solution(p, "borrow", rng), write_solution(p, "carry", rng)
    print(p["question"], "\ngold", p["answer"], "\n\nshare (flaw: borrow):\n" + own, "\n\npeer (flaw: carry):\n" + peer)
    for mode in ("cooperate", "compete"):
        analysis = write_analysis(own, peer, mode, "borrow", rng)
        print(f"\n{mode} analysis:\n{analysis}\n{mode} fusion:\n" +
              write_fusion(p, own, peer, analysis, mode, "borrow", rng))
