"""Evaluation: the paper's test-time protocol (every model answers ALONE), and multi-agent inference beside it.

    accuracy = (1/n) sum_q 1[ judge(answer of the model to q, gold_q) ]       greedy by default (the paper does not
                                                                              say how it decodes)
    mean@k   = (1/n) sum_q (1/k) sum_j 1[ sample j of q is right ]            sampled at temperature T
    pass@k   = (1/n) sum_q 1[ any of the k samples of q is right ]
Protocols (--protocol): single (each model alone), idea3 (the training discussion at test time, in one mode;
an agent's answer is its fusion turn) and debate (each answers alone, then --debate_rounds rounds of reading
the others' latest answers and answering again). Multi-agent protocols report every agent's accuracy, both its
first (solo) answer and its final one: the paper's robustness analysis (does the discussion drag one down?).

Predictions are appended to out_dir/predictions.jsonl as they are judged, a batch at a time, and a rerun into the
same folder resumes from them: each (agent, question, sample) counts once, a half-written last line is dropped, and
a question missing some samples is answered again. A folder made with other settings is refused, and so is a
second run into a folder another run is writing (out_dir/lock). MBPP records keep the code that ran and why
it failed. self_rank() is the "self-ranking" of ILR's dynamic interaction: K solo samples per question.

    python evaluate.py --models tiny-strong --benchmarks tinyworld
    python evaluate.py --models tiny-strong,tiny-weak --protocol idea3 --idea3_mode cooperate
    python evaluate.py --models smollm2 --benchmarks gsm8k,math500 --limit 20 --max_new_tokens 384
    python evaluate.py --models Qwen/Qwen2.5-7B-Instruct --benchmarks math5 --device cuda --dtype bfloat16
"""
import contextlib
import dataclasses
import fcntl
import json
import math
import os
import sys
import time
from dataclasses import dataclass

import torch
import transformers
from tqdm import tqdm

import grpo
import idea3
import models
import judge
from lab import flags
from tasks import NAMES, load_questions
from tasks.benchmarks import MATH_FIVE


@dataclass
class Config:
    models: str = "tiny-strong"      # comma list: tiny-strong | tiny-weak | smollm2 | hub id | folder
    benchmarks: str = "tinyworld"    # comma list: tinyworld, a tasks.benchmarks name, or math5 (the paper's five)
    protocol: str = "single"         # single (the paper's) | idea3 | debate (need two or more models)
    limit: int = 0                   # the first N questions of each benchmark (0 = all)
    samples: int = 1                 # k samples per question (mean@k, pass@k); > 1 needs --temperature > 0
    temperature: float = 0.0         # 0 = greedy (our default; the paper does not say)
    top_p: float = 1.0               # nucleus sampling when temperature > 0
    max_new_tokens: int = 1024       # token budget of each turn
    batch_size: int = 16             # questions per generate() call
    idea3_mode: str = "cooperate"    # the mode of every question under --protocol idea3
    debate_rounds: int = 2           # rounds after the first answer under --protocol debate
    peer_max_tokens: int = 1024      # a peer's text is cut to this many reader tokens
    code_timeout: float = 5.0        # seconds per MBPP program
    seed: int = 0                    # seeds the sampling
    device: str = "auto"             # auto (cuda if available) | cpu | cuda
    dtype: str = "float32"           # float32 | bfloat16 | float16
    out_dir: str = ""                # predictions go here; "" = runs/eval/<models>-<protocol>-<temperature>


CHOICES = {"protocol": ("single", "idea3", "debate"), "idea3_mode": ("cooperate", "compete"),
           "device": ("auto", "cpu", "cuda"), "dtype": ("float32", "bfloat16", "float16")}


def judge_one(text: str, q: dict, code_timeout: float = 5.0) -> dict:
    """The judged fields of one prediction record, from judge.check (which decides math, choice and code alike):
    {extracted, correct, status}; code records also keep the program that ran and why it failed, and their
    `extracted` is the sandbox's status. A time-out has status 'timeout' (counted apart) and correct False."""
    v = judge.check(text, q, code_timeout)
    if judge.kind(q) == "code":
        return {"extracted": v.status, "correct": v.correct, "status": v.status, "code": v.answer or "",
                "detail": v.detail}
    return {"extracted": v.answer, "correct": v.correct, "status": v.status}


class TokenProgress:
    """Passed to grpo.generate as `progress`: shows the decoding step inside a batch on the question bar."""

    def __init__(self, bar):
        self.bar, self.t = bar, 0

    def update(self, n: int = 1):
        self.t += n
        if self.t % 16 == 0:
            self.bar.set_postfix(token=self.t, refresh=True)


@torch.no_grad()
def solo_eval(model, tokenizer, questions: list[dict], max_new_tokens: int = 512, temperature: float = 0.0,
              samples: int = 1, top_p: float = 1.0, batch_size: int = 64, seed: int = 0,
              show_progress: bool = True, code_timeout: float = 5.0) -> list[dict]:
    """Answer every question alone and judge it. Returns one record per (question, sample)."""
    was_training = model.training
    model.eval()
    eos, pad = models.eos_ids(model, tokenizer), tokenizer.pad_token_id
    gen = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    records = []
    show_progress = show_progress and interactive()     # redirected to a file, redraws would pile up
    bar = tqdm(total=len(questions), desc="solo", unit="question", disable=not show_progress, leave=False)
    for i in range(0, len(questions), batch_size):
        batch = questions[i:i + batch_size]
        prompts = [idea3.first_turn(tokenizer, idea3.solo_messages(q)) for q in batch]
        r = grpo.generate(model, prompts, max_new_tokens, eos, pad, num_samples=samples, temperature=temperature,
                          top_p=top_p, generator=gen, progress=TokenProgress(bar) if show_progress else None)
        texts = tokenizer.batch_decode(r.completions, skip_special_tokens=True)
        for j, text in enumerate(texts):
            q = batch[j // samples]
            records.append({"id": q["id"], "benchmark": q.get("benchmark", ""), "sample": j % samples,
                            "completion": text, "gold": q["answer"], **judge_one(text, q, code_timeout),
                            "truncated": bool(r.truncated[j]), "length": int(r.lengths[j])})
        bar.update(len(batch))
    bar.close()
    model.train(was_training)
    return records


def solo_accuracy(model, tokenizer, questions: list[dict], max_new_tokens: int, samples: int, seed: int = 0,
                  rank: int = 0, world: int = 1, batch_size: int = 64) -> tuple[float, float]:
    """(greedy accuracy, T=1 mean@samples) alone on the questions; under torchrun each rank answers its shard and
    the counts are summed. samples = 0 skips the sampled accuracy (nan)."""
    shard = questions[rank::world]
    greedy = solo_eval(model, tokenizer, shard, max_new_tokens, temperature=0.0, batch_size=batch_size,
                       show_progress=False)
    sampled = solo_eval(model, tokenizer, shard, max_new_tokens, temperature=1.0, samples=samples,
                        batch_size=batch_size, seed=seed + rank, show_progress=False) if samples else []
    counts = torch.tensor([sum(r["correct"] for r in greedy), len(greedy), sum(r["correct"] for r in sampled),
                           len(sampled)], dtype=torch.float64)
    if world > 1:
        torch.distributed.all_reduce(counts)
    return float(counts[0] / counts[1]), float(counts[2] / counts[3]) if samples else float("nan")


def self_rank(agents, questions: list[dict], K: int, max_new_tokens: int, seed: int, rank: int = 0,
              world: int = 1, show_progress: bool = True, batch_size: int = 64):
    """ILR's self-ranking: every agent answers every question K times alone (T=1). Returns successes (m, Q), the
    response counts irt.fit needs. Under torchrun each rank answers its shard and the counts are summed."""
    import numpy as np
    counts = torch.zeros(len(agents), len(questions), dtype=torch.float64)
    mine = list(range(rank, len(questions), world))
    index = {q["id"]: j for j, q in enumerate(questions)}
    for i, a in enumerate(agents):
        recs = solo_eval(a.model, a.tokenizer, [questions[j] for j in mine], max_new_tokens, temperature=1.0,
                         samples=K, batch_size=batch_size, seed=seed * 1000 + rank,
                         show_progress=show_progress and rank == 0)
        for r in recs:
            counts[i, index[r["id"]]] += float(r["correct"])
    if world > 1:
        torch.distributed.all_reduce(counts)
    return np.asarray(counts)


def accuracy(records: list[dict]) -> float:
    """mean@k over all records (for greedy, k = 1: plain accuracy)."""
    return sum(r["correct"] for r in records) / max(1, len(records))


def pass_at_k(records: list[dict]) -> float:
    """Fraction of questions with at least one correct sample."""
    by_q: dict = {}
    for r in records:
        by_q[r["id"]] = by_q.get(r["id"], False) or r["correct"]
    return sum(by_q.values()) / max(1, len(by_q))


# ----------------------------------------------------------------------------------------------------------------
# The command


def multi_agent(cfg: Config, agents: list, questions: list[dict], gens) -> list[list[dict]]:
    """Run idea3 or debate on a batch of questions: per agent, one record per (question, sample)."""
    settings = idea3.Settings(cfg.samples, cfg.temperature, cfg.top_p, {"share": cfg.max_new_tokens},
                              cfg.peer_max_tokens)
    settings.max_tokens.update(analysis=cfg.max_new_tokens, fusion=cfg.max_new_tokens)
    if cfg.protocol == "idea3":
        episodes = idea3.run_episodes(agents, questions, [cfg.idea3_mode] * len(questions), settings, gens)
    else:
        episodes = idea3.run_debate(agents, questions, cfg.debate_rounds, settings, gens)
    out = []
    for ep in episodes:
        recs = []
        for n, (first, final) in enumerate(zip(ep.texts["share"], ep.final)):
            q = questions[n // cfg.samples]
            recs.append({"id": q["id"], "benchmark": q.get("benchmark", ""), "sample": n % cfg.samples,
                         "first": first, "first_correct": judge_one(first, q, cfg.code_timeout)["correct"],
                         "completion": final, "gold": q["answer"], **judge_one(final, q, cfg.code_timeout),
                         "turns": {s: ep.texts[s][n] for s in ep.texts}})
        out.append(recs)
    return out


def interactive() -> bool:
    """True when stderr is a terminal: progress bars only make sense there. Redirected to a file, tqdm's
    carriage-return updates pile up into one endless line (100 KB per batch with the token counter)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):   # replaced by an object without isatty, or closed
        return False


class Progress:
    """Progress through one benchmark: a tqdm bar on a terminal; otherwise a plain line at most every `every`
    seconds and one at the end, so a log file gets a few readable lines instead of a stream of redraws."""

    def __init__(self, desc: str, total: int, initial: int = 0, every: float = 60.0):
        self.desc, self.total, self.n, self.every = desc, total, initial, every
        self.bar = tqdm(total=total, initial=initial, desc=desc, unit="question") if interactive() else None
        self.start = self.last = time.monotonic()

    def _line(self):
        print(f"{self.desc}: {self.n}/{self.total} questions ({(time.monotonic() - self.start) / 60:.1f} min)",
              file=sys.stderr, flush=True)

    def update(self, n: int):
        self.n += n
        if self.bar is not None:
            self.bar.update(n)
        elif time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self._line()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        else:
            self._line()


@contextlib.contextmanager
def exclusive(out_dir: str):
    """Hold an exclusive lock on out_dir/lock while a run reads and appends predictions there. Two runs into one
    folder would each answer the same unanswered questions and append every record twice; the second is refused.
    The kernel drops the lock when its process dies, so a crashed run never leaves the folder locked."""
    path = os.path.join(out_dir, "lock")
    f = open(path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "unknown"
        f.close()
        sys.exit(f"evaluate.py: another run (pid {holder}) is writing predictions into {out_dir}; wait for it to "
                 f"finish, or choose another --out_dir")
    try:
        f.truncate(0)              # who holds it, for the message above (the lock itself is the flock)
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        f.close()                  # releases the lock


def read_predictions(path: str) -> dict:
    """The judged records of a predictions file, {(agent, benchmark, id): {sample: record}}, each sample once.

    A crash can leave three things behind, each handled here so that a resume never counts a sample twice:
      - a last line cut short (no newline): truncated away, so the next append starts on a fresh line instead of
        gluing its first record onto the fragment;
      - records written twice (a batch redone after a crash between two agents' lines): the later one wins, since
        a redo writes every agent's samples of a question together;
      - a question with only some of its samples: returned as it is; main() answers that question again.
    """
    done: dict = {}
    if not os.path.exists(path):
        return done
    with open(path, "rb+") as f:
        data = f.read()
        whole = data.rfind(b"\n") + 1          # the bytes up to the last complete line
        if whole < len(data):
            print(f"evaluate.py: dropping a half-written last line of {path} ({len(data) - whole} bytes)",
                  file=sys.stderr)
            f.truncate(whole)
    for line in data[:whole].decode("utf-8", errors="replace").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:           # a damaged line inside the file: that sample is answered again
            continue
        done.setdefault((r["agent"], r["benchmark"], r["id"]), {})[r["sample"]] = r
    return done


def main(argv=None) -> dict:
    """The command: check every flag and name, load the questions, then answer and judge under the folder's lock."""
    cfg = flags.parse(Config, argv, __doc__.split("\n")[0], CHOICES)
    names = [b.strip() for b in cfg.benchmarks.split(",") if b.strip()]
    names = [n for b in names for n in (MATH_FIVE if b == "math5" else (b,))]
    sources = [m.strip() for m in cfg.models.split(",") if m.strip()]
    # Every name and flag is checked before a model loads.
    unknown = [n for n in names if n not in NAMES]
    if unknown or not names:
        sys.exit(f"evaluate.py: --benchmarks: unknown {unknown or cfg.benchmarks!r}; known: {NAMES} and math5")
    bad = [s for s in sources if not models.is_loadable(s)]
    if bad or not sources:
        sys.exit(f"evaluate.py: --models: {bad or cfg.models!r} is not a tiny-world name, smollm2, an existing "
                 f"folder or a hub id (owner/name)")
    if cfg.samples < 1 or cfg.limit < 0 or cfg.batch_size < 1 or cfg.max_new_tokens < 1 or cfg.debate_rounds < 1:
        sys.exit("evaluate.py: --samples, --batch_size, --max_new_tokens, --debate_rounds must be >= 1 and "
                 "--limit >= 0")
    # (nan fails every comparison, so each number is also checked to be finite)
    if not (math.isfinite(cfg.temperature) and cfg.temperature >= 0):
        sys.exit(f"evaluate.py: --temperature must be >= 0 and finite (got {cfg.temperature}); 0 = greedy")
    if cfg.samples > 1 and cfg.temperature == 0:
        sys.exit("evaluate.py: --samples > 1 needs --temperature > 0: greedy samples are all the same")
    if not 0 < cfg.top_p <= 1:
        sys.exit(f"evaluate.py: --top_p must be in (0, 1] (got {cfg.top_p})")
    if not (math.isfinite(cfg.code_timeout) and cfg.code_timeout > 0):
        sys.exit(f"evaluate.py: --code_timeout must be a finite number of seconds > 0 (got {cfg.code_timeout}): "
                 f"the time each MBPP program may run")
    if cfg.protocol != "single" and len(sources) < 2:
        sys.exit(f"evaluate.py: --protocol {cfg.protocol} needs two or more --models")
    if cfg.device == "cuda" and not torch.cuda.is_available():
        sys.exit("evaluate.py: --device cuda, but torch sees no GPU; use --device cpu")
    questions = {n: load_questions(n, cfg.limit) for n in names}     # data errors surface here, before any model
    for n, qs in questions.items():
        unscorable = [q for q in qs if not judge.scorable(q)]
        if unscorable:
            try:
                judge.kind(unscorable[0])
            except ValueError as e:
                sys.exit(f"evaluate.py: --benchmarks {n}: {len(unscorable)} questions cannot be judged, e.g. {e}")
    out_dir = cfg.out_dir or os.path.join("runs", "eval", "-".join(
        [os.path.basename(s.rstrip("/")) for s in sources] + [cfg.protocol, f"T{cfg.temperature:g}"]))
    os.makedirs(out_dir, exist_ok=True)
    with exclusive(out_dir):
        return run(cfg, sources, names, questions, out_dir)


def run(cfg: Config, sources: list[str], names: list[str], questions: dict, out_dir: str) -> dict:
    """Answer what out_dir does not hold yet, append it batch by batch, print and return the table
    {(agent, benchmark): (accuracy or mean@k, pass@k, n questions, first-answer accuracy)}. The caller holds the
    folder's lock."""
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("benchmarks", "limit", "out_dir",
                                                                              "batch_size", "device")}
    settings_path, pred_path = os.path.join(out_dir, "settings.json"), os.path.join(out_dir, "predictions.jsonl")
    if os.path.exists(settings_path):
        with open(settings_path) as f:
            old = json.load(f)
        if old != settings:
            sys.exit(f"evaluate.py: {out_dir} holds predictions made with other settings "
                     f"({', '.join(k for k in settings if old.get(k) != settings[k])}); choose another --out_dir")
    with open(settings_path, "w") as f:
        json.dump(settings, f, indent=1)
    done = read_predictions(pred_path)   # resume: keep what was judged, answer only the rest

    device = models.pick_device(cfg.device)
    if not interactive():   # transformers' own "Loading weights" bar would redraw into the log file too
        transformers.utils.logging.disable_progress_bar()
    agents = []
    for i, s in enumerate(sources):
        model, tok = models.load(s, dtype=getattr(torch, cfg.dtype), device=device)
        agents.append(idea3.Agent(f"{i}:{s}", model, tok, models.eos_ids(model, tok), tok.pad_token_id))
    every_sample = set(range(cfg.samples))

    def complete(name: str, q: dict) -> bool:     # every agent holds every sample of q
        return all(every_sample <= set(done.get((a.name, name, q["id"]), {})) for a in agents)

    table = {}
    with open(pred_path, "a") as f:
        for name in names:
            todo = [q for q in questions[name] if not complete(name, q)]
            bar = Progress(name, len(questions[name]), len(questions[name]) - len(todo))
            for j in range(0, len(todo), cfg.batch_size):
                batch = todo[j:j + cfg.batch_size]
                gens = [torch.Generator(device).manual_seed(cfg.seed + i) for i in range(len(agents))]
                if cfg.protocol == "single":
                    per_agent = [solo_eval(a.model, a.tokenizer, batch, cfg.max_new_tokens,
                                           temperature=cfg.temperature, samples=cfg.samples, top_p=cfg.top_p,
                                           batch_size=len(batch), seed=cfg.seed + j, show_progress=False,
                                           code_timeout=cfg.code_timeout)
                                 for a in agents]
                else:
                    per_agent = multi_agent(cfg, agents, batch, gens)
                # The whole batch, every agent, in one write: a crash leaves at most one batch partly written.
                lines = []
                for a, recs in zip(agents, per_agent):
                    for r in recs:
                        r = {"agent": a.name, "protocol": cfg.protocol, **r}
                        lines.append(json.dumps(r) + "\n")
                        done.setdefault((a.name, name, r["id"]), {})[r["sample"]] = r   # a redo replaces
                f.write("".join(lines))
                f.flush()
                os.fsync(f.fileno())
                bar.update(len(batch))
            bar.close()
            for a in agents:
                recs = [r for q in questions[name] for r in done.get((a.name, name, q["id"]), {}).values()]
                first = [{"id": r["id"], "correct": r.get("first_correct", r["correct"])} for r in recs]
                table[(a.name, name)] = (accuracy(recs), pass_at_k(recs), len(questions[name]), accuracy(first))
    k = cfg.samples
    print(f"\n{cfg.protocol} | {'greedy' if cfg.temperature == 0 else f'T={cfg.temperature}'} | {pred_path}")
    head = f"{'agent':28s} {'benchmark':15s} {'n':>5s} {'mean@' + str(k) if k > 1 else 'accuracy':>9s}"
    print(head + (f" {'pass@' + str(k):>8s}" if k > 1 else "") + (" first answer" if cfg.protocol != "single" else ""))
    for (agent, name), (acc, pk, n, first) in table.items():
        print(f"{agent[:28]:28s} {name:15s} {n:5d} {100 * acc:9.2f}" + (f" {100 * pk:8.2f}" if k > 1 else "") +
              (f" {100 * first:12.2f}" if cfg.protocol != "single" else ""))
    for a in agents:
        five = [table[(a.name, n)][0] for n in MATH_FIVE if (a.name, n) in table]
        if len(five) == len(MATH_FIVE):
            print(f"{a.name[:28]:28s} {'math5 average':15s} {'':5s} {100 * sum(five) / 5:9.2f}")
    return table


if __name__ == "__main__":
    main()
