"""Stand-ins shared by the multi-process tests (test_train.py, test_fsdp.py): precomputed episodes instead of
sampling, and rewards from tokens instead of answers, so every rank sees the same data whatever the tiny models
happen to answer, and 1 process can be compared with 2."""
import torch

import idea3
import models
import train

AGENTS = ("tiny-strong", "tiny-weak")


def load_agents(names=AGENTS) -> list:
    out = []
    for name in names:
        m, tok = models.load(name)
        out.append(idea3.Agent(name, m, tok, models.eos_ids(m, tok), tok.pad_token_id))
    return out


def fixed_episodes(parent, ids):
    """A stand-in for idea3.run_episodes that returns the precomputed episodes of the questions asked for."""
    def run(learners, questions, modes, settings, gens):
        G = settings.group_size
        rows = [ids.index(q["id"]) * G + k for q in questions for k in range(G)]
        return [idea3.Episodes(ep.tokens[rows], ep.attention_mask[rows], ep.loss_mask[rows], ep.start,
                               {s: [t[r] for r in rows] for s, t in ep.texts.items()},
                               {s: v[rows] for s, v in ep.lengths.items()},
                               {s: v[rows] for s, v in ep.truncated.items()}, dict(ep.seconds), ep.turn[rows])
                for ep in parent]
    return run


def token_rewards(episodes, questions, G, cfg, m):
    """A stand-in for train.rewards_of: rewards from each episode's tokens, not from its answers, so they are the
    same whichever rank holds the episode, and vary within groups whatever the tiny models answer."""
    L = episodes.tokens.shape[1]
    R = ((episodes.tokens * torch.arange(1, L + 1)).sum(-1) % 97).float().view(-1, G) / 96     # (B, G) in [0, 1]
    right = (R > 0.5).float()
    return train.Rewards(R, right, right, right, torch.tensor(0.0))
