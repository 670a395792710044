"""Idea3, the discussion of ILR: every prompt a model sees, and one batch of episodes (share, analyse, fuse).

For a question q, m agents and G paired episodes, episode k of q is one discussion among the k-th samples:
  1. Idea Sharing   each agent i answers q alone:                       s_i,k ~ pi_i( . | q)          (G per q)
  2. Idea Analysis  each agent reads every peer's s_l,k and analyses it: a_i,k ~ pi_i( . | q, s_i,k, {s_l,k})
  3. Idea Fusion    each agent writes its own refined final solution:   f_i,k ~ pi_i( . | q, s_i,k, .., a_i,k)
The mode of q (cooperate: the peer is a partner; compete: an opponent) picks the wording of stages 2 and 3.
Agent i keeps its own answer: the reward reads the \\boxed{} of f_i,k. At test time an agent runs stage 1 alone.

Every conversation is built token by token, so the tokens trained on are exactly the tokens that were sampled:
  conversation_i,k = [template: q] s_i,k [template: analysis prompt] a_i,k [template: fusion prompt] f_i,k
and loss_mask = 1 exactly on s, a and f (each with its end-of-turn token), 0 on templates and on peers' text.
Text crosses agents as TEXT: decoded with the writer's tokenizer, re-encoded with the reader's, and cut to
`peer_max_tokens` reader tokens (keeping the head and the tail, since the final answer is at the end).

Generation: one grpo.generate call per agent per stage. Sharing samples G per question from one shared prefill;
analysis and fusion prompts differ per episode, so they are sampled once each.

    python idea3.py            # prints every prompt template (a whole episode: notebooks/3_idea3_episode.ipynb)
"""
from dataclasses import dataclass, field

import torch

import grpo

# ------------------------------------------------------------------------------------------------------------------
# Prompts. Real models get the first set; the tiny world's models were trained on the compact second set.

SOLO_SUFFIX = {
    "math": "Please reason step by step, and put your final answer within \\boxed{}.",
    "choice": "Please reason step by step, and put the letter of your final choice within \\boxed{}.",
    "code": "Write the Python function in one ```python code block.",
}
ANALYSIS = {
    "cooperate": "You are solving this problem together with {who}. Here is {whose} solution:\n\n{peers}\n\n"
                 "As a partner, analyse it step by step: say which steps are right, which ideas are useful, "
                 "and where the errors are. Do not give a final answer yet.",
    "compete": "You are competing on this problem against {who}. Here is {whose} solution:\n\n{peers}\n\n"
               "As an opponent, look for its flaws: check each step, compare it with your own solution, and say "
               "who went wrong where. Do not give a final answer yet.",
}
FUSION = {
    "cooperate": "Now combine the best of the discussion into your own refined solution. {suffix}",
    "compete": "Now write your final solution: keep what survived the comparison and fix what did not. {suffix}",
}
PEER_ANALYSES = "Here is what the others said about your solution:\n\n{analyses}\n\n"   # --share_analyses
DEBATE = ("These are the solutions of the other agents:\n\n{peers}\n\nUse them as additional advice and give "
          "an updated solution. {suffix}")
ROLE = {"cooperate": "partner", "compete": "opponent"}

TINY_ANALYSIS = {"cooperate": "Partner solution:\n{peers}\nCheck each line.",
                 "compete": "Opponent solution:\n{peers}\nFind the flaws."}
TINY_FUSION = {"cooperate": "Final solution:", "compete": "Defend or fix:"}
TINY_DEBATE = "Other solutions:\n{peers}\nFinal solution:"
CUT = " [...] "   # stands where the middle of an over-long peer text was cut


def style_of(question: dict) -> str:
    """Which prompt set a question gets: tiny, code, choice or math."""
    if question.get("benchmark") == "tinyworld":
        return "tiny"
    return "code" if question.get("tests") else "choice" if question.get("choices") else "math"


def solo_messages(question: dict) -> list[dict]:
    """Stage 1 and the test-time protocol: the question alone, as one user turn."""
    style = style_of(question)
    text = question["question"] if style == "tiny" else f"{question['question']}\n{SOLO_SUFFIX[style]}"
    return [{"role": "user", "content": text}]


def peer_block(texts: list[str], mode: str, style: str) -> str:
    """The peers' texts, labelled ('Partner solution', 'Opponent 2', ...)."""
    role = ROLE[mode]
    if style == "tiny":
        return "\n".join(texts) if len(texts) == 1 else \
            "\n".join(f"{j + 1}:\n{t}" for j, t in enumerate(texts))
    labels = [role.capitalize()] if len(texts) == 1 else [f"{role.capitalize()} {j + 1}" for j in range(len(texts))]
    return "\n\n".join(f"[{label}]\n{t}" for label, t in zip(labels, texts))


def analysis_prompt(peer_texts: list[str], mode: str, style: str) -> str:
    """Stage 2's user turn: every peer's solution, and what to look for (partner or opponent)."""
    peers = peer_block(peer_texts, mode, style)
    if style == "tiny":
        return TINY_ANALYSIS[mode].format(peers=peers)
    n = len(peer_texts)
    who = ("a partner" if mode == "cooperate" else "an opponent") if n == 1 else f"{n} {ROLE[mode]}s"
    whose = f"your {ROLE[mode]}'s" if n == 1 else f"your {ROLE[mode]}s'"
    return ANALYSIS[mode].format(who=who, whose=whose, peers=peers)


def fusion_prompt(mode: str, style: str, peer_analyses: list[str] | None = None) -> str:
    """Stage 3's user turn; with --share_analyses it first shows what the peers said in stage 2."""
    if style == "tiny":
        return TINY_FUSION[mode]
    text = FUSION[mode].format(suffix=SOLO_SUFFIX[style])
    if peer_analyses:
        text = PEER_ANALYSES.format(analyses=peer_block(peer_analyses, mode, style)) + text
    return text


def debate_prompt(peer_texts: list[str], style: str) -> str:
    """A round of the debate baseline (evaluate.py): the others' latest solutions, then answer again."""
    if style == "tiny":
        return TINY_DEBATE.format(peers="\n".join(peer_texts))
    return DEBATE.format(peers=peer_block(peer_texts, "cooperate", style).replace("[Partner", "[Agent"),
                         suffix=SOLO_SUFFIX[style])


# ------------------------------------------------------------------------------------------------------------------
# Conversations as token lists


@dataclass
class Agent:
    """What a discussion needs of an agent. train.py adds the optimizer and friends."""
    name: str
    model: torch.nn.Module
    tokenizer: object
    eos_ids: list[int]
    pad_id: int


def first_turn(tokenizer, messages: list[dict]) -> list[int]:
    """Chat-templated prompt ids up to the assistant's header. Rendered to text first (the template holds the
    special tokens), then encoded without adding any."""
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tokenizer.encode(text, add_special_tokens=False)


_SENTINEL = "\u2063REPLY\u2063"   # an assistant reply no real text contains


def next_turn(tokenizer, user_text: str, closed: bool) -> list[int]:
    """Tokens between an assistant reply and the next reply: [end of turn] + user turn + assistant header.

    Rendered by the model's own chat template around a sentinel reply, so any template works. `closed`: the reply
    already ends with an end-of-turn token the model sampled; then the template's own copy of it is left out.
    """
    msgs = [{"role": "user", "content": "?"}, {"role": "assistant", "content": _SENTINEL},
            {"role": "user", "content": user_text}]
    text = tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    after = text[text.index(_SENTINEL) + len(_SENTINEL):]
    if closed:
        for end in (tokenizer.eos_token, "<|im_end|>", "<|eot_id|>", "<|end|>"):
            if end and after.startswith(end):
                after = after[len(end):]
                break
    return tokenizer.encode(after, add_special_tokens=False)


def cut_to(tokenizer, text: str, budget: int) -> str:
    """`text` if it has at most `budget` tokens for this reader, else its head and tail with CUT between them."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) <= budget:
        return text
    half = budget // 2
    return tokenizer.decode(ids[:half]) + CUT + tokenizer.decode(ids[-half:])


@dataclass
class Episodes:
    """One agent's side of B*G episodes (row b*G + k = episode k of question b), ready for the GRPO update."""
    tokens: torch.Tensor             # (N, L) long, left-padded whole conversations
    attention_mask: torch.Tensor     # (N, L) long
    loss_mask: torch.Tensor          # (N, L) float: 1 on this agent's own trained turns (end-of-turn included)
    start: int                       # first column with loss_mask 1 in any row: log-probs are needed from here on
    texts: dict                      # stage -> list of N decoded turns ("share", "analysis", "fusion")
    lengths: dict                    # stage -> (N,) tokens generated
    truncated: dict                  # stage -> (N,) bool, hit that stage's token limit
    seconds: dict = field(default_factory=dict)   # stage -> seconds spent generating
    turn: torch.Tensor = None        # (N, L) long: which own turn a token belongs to (TURNS index + 1), 0 elsewhere

    @property
    def final(self) -> list[str]:
        """The text whose \\boxed{} is this agent's answer: the fusion turn (the share turn when alone)."""
        return self.texts["fusion"] if "fusion" in self.texts else self.texts["share"]


TURNS = ("share", "analysis", "fusion")   # an agent's own turns; Episodes.turn holds index + 1 on their tokens


def trained_turns(spec: str) -> tuple[str, ...]:
    """The turns named by --train_turns: "all", or a comma list of TURNS ("share,fusion": the analysis is context
    only). Raises ValueError naming what is wrong."""
    chosen = TURNS if spec == "all" else tuple(t.strip() for t in spec.split(","))
    unknown = [t for t in chosen if t not in TURNS]
    if unknown or len(set(chosen)) < len(chosen):
        raise ValueError(f"train_turns {spec!r}: give 'all' or a comma list of distinct turns from {', '.join(TURNS)}")
    return chosen


def pack(rows: list[list[int]], masks: list[list[float]], turns: list[list[int]], pad_id: int) -> tuple:
    """Left-pad token rows into (N, L) tensors (grpo.left_pad), their loss masks and turn ids alike; also returns the
    first column where any loss mask is 1."""
    tokens, attn, _ = grpo.left_pad(rows, pad_id)                                  # (N, L) each
    loss, turn = grpo.left_pad(masks, 0)[0].float(), grpo.left_pad(turns, 0)[0]    # (N, L) each
    L = tokens.shape[1]
    first = int(loss.nonzero()[:, 1].min()) if loss.any() else L - 1
    return tokens, attn, loss, turn, max(first, 1)


# ------------------------------------------------------------------------------------------------------------------
# One batch of episodes


@dataclass
class Settings:
    """How a discussion is sampled (train.py and evaluate.py fill it from their flags)."""
    group_size: int = 8                  # G: episodes per question
    temperature: float = 1.0             # 0 = greedy
    top_p: float = 1.0
    max_tokens: dict = field(default_factory=lambda: {"share": 64, "analysis": 64, "fusion": 64})
    peer_max_tokens: int = 512           # a peer's text is cut to this many reader tokens
    share_analyses: bool = False         # fusion also shows what the peers said about this agent's solution
    train_turns: str = "all"             # which own turns carry the loss: "all", or a comma list like "share,fusion"


class Dialogue:
    """The m agents' conversations over N episodes, grown one stage at a time (for run_episodes and run_debate)."""

    def __init__(self, agents: list[Agent], N: int, settings: Settings, generators, trained: dict):
        self.agents, self.N, self.settings, self.generators, self.trained = agents, N, settings, generators, trained
        self.rows = [[[] for _ in range(N)] for _ in agents]     # rows[i][n]: agent i's conversation ids, episode n
        self.masks = [[[] for _ in range(N)] for _ in agents]    # the matching loss-mask bits
        self.turns = [[[] for _ in range(N)] for _ in agents]    # which own turn each token is (0: not its own)
        self.closed = [[False] * N for _ in agents]              # did the last turn end with end-of-turn?
        self.texts, self.lengths, self.truncated, self.seconds = ([{} for _ in agents] for _ in range(4))

    def say(self, i: int, stage: str, prompts: list[list[int]], samples: int = 1) -> None:
        """Generate `stage` for agent i (one grpo.generate call) and append prompt + reply to its N conversations.
        `samples` > 1: prompts are per question and each is sampled `samples` times from one shared prefill."""
        import time
        a, st, t0 = self.agents[i], self.settings, time.time()
        a.model.eval()
        r = grpo.generate(a.model, prompts, st.max_tokens.get(stage, st.max_tokens["share"]), a.eos_ids, a.pad_id,
                          num_samples=samples, temperature=st.temperature, top_p=st.top_p,
                          generator=self.generators[i])
        prompts = [p for p in prompts for _ in range(samples)]                      # one prompt per episode
        for n in range(self.N):
            reply = r.completions[n, :int(r.lengths[n])].tolist()
            # the loss mask: 0 on the template and the peers' words, 1 on this reply when its stage is trained
            glue = len(prompts[n]) - len(self.rows[i][n])
            self.masks[i][n] += [0.0] * glue + [float(self.trained.get(stage, False))] * len(reply)
            self.turns[i][n] += [0] * glue + [TURNS.index(stage) + 1 if stage in TURNS else 0] * len(reply)
            self.rows[i][n] = prompts[n] + reply
            self.closed[i][n] = bool(reply) and reply[-1] in a.eos_ids
        self.texts[i][stage] = [t.strip() for t in a.tokenizer.batch_decode(r.completions, skip_special_tokens=True)]
        self.lengths[i][stage], self.truncated[i][stage] = r.lengths.cpu(), r.truncated.cpu()
        self.seconds[i][stage] = time.time() - t0

    def then(self, i: int, n: int, user_text: str) -> list[int]:
        """Agent i's conversation n, followed by a new user turn and the assistant header: the next prompt."""
        return self.rows[i][n] + next_turn(self.agents[i].tokenizer, user_text, self.closed[i][n])

    def peers(self, i: int, stage: str, n: int) -> list[str]:
        """What the other agents wrote in `stage` of episode n, cut to agent i's budget."""
        return [cut_to(self.agents[i].tokenizer, self.texts[l][stage][n], self.settings.peer_max_tokens)
                for l in range(len(self.agents)) if l != i]

    def episodes(self) -> list[Episodes]:
        out = []
        for i, a in enumerate(self.agents):
            tokens, attn, loss, turn, start = pack(self.rows[i], self.masks[i], self.turns[i], a.pad_id)
            out.append(Episodes(tokens, attn, loss, start, self.texts[i], self.lengths[i], self.truncated[i],
                                self.seconds[i], turn))
        return out


def run_episodes(agents: list[Agent], questions: list[dict], modes: list[str], settings: Settings,
                 generators: list) -> list[Episodes]:
    """B questions, one mode each, m agents -> per agent, its side of the B*G episodes.

    With one agent there is no one to discuss with: the episode is stage 1 alone (single-agent GRPO).
    """
    m, G, N = len(agents), settings.group_size, len(questions) * settings.group_size
    styles = [style_of(q) for q in questions]
    chosen = trained_turns(settings.train_turns)
    trained = {stage: stage in chosen or (stage == "share" and m == 1) for stage in TURNS}
    d = Dialogue(agents, N, settings, generators, trained)
    # 1. Idea Sharing: G samples per question from one shared prefill per question.
    for i, a in enumerate(agents):
        d.say(i, "share", [first_turn(a.tokenizer, solo_messages(q)) for q in questions], samples=G)
    if m == 1:
        return d.episodes()
    # 2. Idea Analysis: agent i reads the k-th solution of every peer on the same question.
    for i in range(m):
        d.say(i, "analysis", [d.then(i, n, analysis_prompt(d.peers(i, "share", n), modes[n // G], styles[n // G]))
                              for n in range(N)])
    # 3. Idea Fusion: with the discussion in front of it, each agent writes its own final solution.
    for i in range(m):
        said = [d.peers(i, "analysis", n) if settings.share_analyses else None for n in range(N)]
        d.say(i, "fusion", [d.then(i, n, fusion_prompt(modes[n // G], styles[n // G], said[n])) for n in range(N)])
    return d.episodes()


def run_debate(agents: list[Agent], questions: list[dict], rounds: int, settings: Settings,
               generators: list) -> list[Episodes]:
    """The debate baseline (test time only): every agent answers alone ("share"), then for `rounds` rounds reads
    the others' latest answers and answers again ("round1", "round2", ...). Episodes.final is the last round."""
    G, N = settings.group_size, len(questions) * settings.group_size
    styles = [style_of(q) for q in questions]
    d = Dialogue(agents, N, settings, generators, trained={})
    for i, a in enumerate(agents):
        d.say(i, "share", [first_turn(a.tokenizer, solo_messages(q)) for q in questions], samples=G)
    last = "share"
    for r in range(1, rounds + 1):
        stage = f"round{r}"
        for i in range(len(agents)):
            d.say(i, stage, [d.then(i, n, debate_prompt(d.peers(i, last, n), styles[n // G])) for n in range(N)])
        last = stage
    episodes = d.episodes()
    for ep in episodes:
        ep.texts["fusion"] = ep.texts[last]   # the answer that counts
    return episodes


if __name__ == "__main__":
    print("Every prompt of a discussion, for real models (math) and for the tiny world.\n")
    for style in ("math", "tiny"):
        q = {"question": "<the question>", "benchmark": "tinyworld" if style == "tiny" else "math500"}
        print(f"===== {style}\n--- 1. sharing (also the test-time prompt):\n{solo_messages(q)[0]['content']}\n")
        for mode in ("cooperate", "compete"):
            print(f"--- 2. analysis, {mode}:\n{analysis_prompt(['<the peer solution>'], mode, style)}\n")
            print(f"--- 3. fusion, {mode}:\n{fusion_prompt(mode, style)}\n")
        print(f"--- debate round:\n{debate_prompt(['<agent 1 solution>', '<agent 2 solution>'], style)}\n")
    print("One whole episode with the tiny models, turn by turn with its loss mask: notebooks/3_idea3_episode.ipynb")
