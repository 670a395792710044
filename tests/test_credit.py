"""Per-turn credit (train.credit): the share turn is credited by its own answer, the discussion by the final one;
with lambda = 0 an ILR step is exactly a single-agent GRPO step on the same share samples."""
import copy

import pytest
import torch

import grpo
import idea3
import train
from stand_ins import load_agents
from tasks import tinyworld

SHARE, ANALYSIS, FUSION = (1 + idea3.TURNS.index(s) for s in idea3.TURNS)


def toy_episodes():
    """B = 1 question, G = 2 episodes of 7 tokens: [prompt] share share [prompt] analysis [prompt] fusion."""
    turn = torch.tensor([[0, SHARE, SHARE, 0, ANALYSIS, 0, FUSION]] * 2)
    tokens = torch.arange(14).view(2, 7)
    return idea3.Episodes(tokens, torch.ones_like(tokens), (turn > 0).float(), 1, {}, {}, {}, {}, turn)


def test_per_turn_advantages_by_hand():
    ep = toy_episodes()
    Rbar = torch.tensor([[2.0, 0.5]])        # (B, G) calibrated final rewards: mean 1.25 -> +0.75, -0.75
    share_R = torch.tensor([[0.0, 1.0]])     # the shares: the second was right -> -0.5, +0.5
    cfg = train.Config(credit="turn", discussion_weight=0.5, max_new_tokens=9)
    adv, parts, A, zero = train.credit(cfg, ep, Rbar, share_R, m=2)
    expected = torch.tensor([[0.75, -0.5, -0.5, 0.75, 0.75, 0.75, 0.75],     # share tokens get the share's own
                             [-0.75, 0.5, 0.5, -0.75, -0.75, -0.75, -0.75]])  # A; every other token the final's
    torch.testing.assert_close(adv, expected)
    torch.testing.assert_close(A, torch.tensor([[0.75, -0.75]]))
    assert [w for _, w, _ in parts] == [1.0, 0.5, 0.5] and [n for _, _, n in parts] == [9, 9, 9]
    for (mask, _, _), stage in zip(parts, (SHARE, ANALYSIS, FUSION)):
        torch.testing.assert_close(mask, (ep.turn == stage).float())
    # credit episode: one advantage per conversation (the final's), one loss term over every trained token
    adv, parts, _, _ = train.credit(train.Config(credit="episode", max_new_tokens=9), ep, Rbar, share_R, m=2)
    torch.testing.assert_close(adv, torch.tensor([0.75, -0.75]))
    assert len(parts) == 1 and parts[0][1] == 1.0 and parts[0][2] == 27
    # fewer trained turns: the constant aggregation's length counts only those (here share and fusion)
    cfg = train.Config(credit="episode", train_turns="share,fusion", max_new_tokens=9)
    assert train.credit(cfg, ep, Rbar, share_R, m=2)[1][0][2] == 18
    torch.testing.assert_close(parts[0][0], ep.loss_mask)


def test_per_turn_skip_zero_std_drops_each_turns_own_equal_groups():
    ep = toy_episodes()
    cfg = train.Config(credit="turn", skip_zero_std=True)
    _, parts, _, _ = train.credit(cfg, ep, torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]]), m=2)
    assert parts[0][0].sum() == 0                      # the shares were all right: no signal, out of the normaliser
    assert parts[2][0].sum() == 2                      # the fusions differ: they stay


def share_only(ep: idea3.Episodes, pad_id: int) -> idea3.Episodes:
    """The same share samples as single-agent GRPO episodes: each conversation cut after its share turn."""
    rows, masks, turns = [], [], []
    for n in range(ep.tokens.shape[0]):
        real = ep.attention_mask[n].bool()
        toks, turn = ep.tokens[n][real], ep.turn[n][real]
        end = int((turn == SHARE).nonzero().max()) + 1
        rows.append(toks[:end].tolist())
        turns.append(turn[:end].tolist())
        masks.append((turn[:end] == SHARE).float().tolist())
    tokens, attn, loss, turn, start = idea3.pack(rows, masks, turns, pad_id)
    return idea3.Episodes(tokens, attn, loss, start, {}, {}, {}, {}, turn)


def one_step(cfg, agent, ep, Rbar, share_R, m):
    """One train.policy_update with plain SGD (lr 1: the change of the weights is minus the gradient)."""
    model = copy.deepcopy(agent.model)
    adv, parts, _, _ = train.credit(cfg, ep, Rbar, share_R, m)
    batch = {"tokens": ep.tokens, "attention_mask": ep.attention_mask, "advantages": adv, "start": ep.start,
             "old_logp": None, "parts": parts}
    train.policy_update(cfg, grpo.TokenLogprobs(model), torch.optim.SGD(model.parameters(), lr=1.0), batch, 1)
    return model


@pytest.mark.parametrize("agg", grpo.AGGREGATIONS)
def test_lambda_zero_is_single_agent_grpo_on_the_share_samples(agg):
    agents = load_agents()
    questions = [tinyworld.as_question(p, i, "t") for i, p in enumerate(tinyworld.test_problems(3))]
    G = 4
    settings = idea3.Settings(G, 1.0, max_tokens={"share": 40, "analysis": 40, "fusion": 40})
    gens = [torch.Generator().manual_seed(i) for i in range(2)]
    ep = idea3.run_episodes(agents, questions, ["cooperate", "compete", "cooperate"], settings, gens)[0]
    g = torch.Generator().manual_seed(0)
    share_R = torch.randint(0, 2, (3, G), generator=g).float()         # (B, G): whether each share was right
    Rbar = torch.rand(3, G, generator=g) * 2                           # (B, G): any calibrated final reward
    cfg = train.Config(credit="turn", discussion_weight=0.0, loss_agg=agg, grad_clip=0.0, max_new_tokens=40)
    ilr = one_step(cfg, agents[0], ep, Rbar, share_R, m=2)
    # single-agent GRPO: one agent, reward 1[answer right] (+ format_reward, 0 here), the share samples alone
    grpo_ep = share_only(ep, agents[0].pad_id)
    alone = one_step(cfg, agents[0], grpo_ep, share_R, share_R, m=1)
    before = agents[0].model.state_dict()
    moved = 0.0
    for k, v in alone.state_dict().items():
        torch.testing.assert_close(ilr.state_dict()[k], v, atol=1e-6, rtol=1e-5)
        moved += float((v - before[k]).abs().sum())
    assert moved > 0, "the GRPO step changed nothing: nothing was compared"
    # and the discussion does move the weights once lambda > 0
    with_talk = one_step(train.Config(credit="turn", discussion_weight=1.0, loss_agg=agg, grad_clip=0.0,
                                      max_new_tokens=40), agents[0], ep, Rbar, share_R, m=2)
    assert any((with_talk.state_dict()[k] - v).abs().max() > 1e-5 for k, v in alone.state_dict().items())


def test_inverse_check_catches_exactly_the_wrong_lines():
    """A check by the inverse operation, done without a slip, calls a line right exactly when it is right; with
    the borrow flaw always slipping, a borrow line is still checked right (its inverse is an addition), while the
    redo world's check (a subtraction with a borrow) fails every right borrow line."""
    for a in range(0, 100):
        for b in range(0, 100):
            for op in "+-":
                true = a + b if op == "+" else a - b
                if not 0 <= true <= 99:
                    continue
                for c in (true, true + 10, true - 10, true + 1):
                    if not 0 <= c <= 99:
                        continue
                    verdict = tinyworld.check_line(1, (a, op, b, c), None, None, 0.0, "inverse")
                    assert verdict.endswith("right") == (c == true), verdict
                    if op == "-" and a % 10 < b % 10:      # a borrow line, checked by a borrow-flawed agent
                        always = tinyworld.check_line(1, (a, op, b, c), "borrow", _Always(), 1.0, "inverse")
                        assert always.endswith("right") == (c == true), always
                        redo = tinyworld.check_line(1, (a, op, b, c), "borrow", _Always(), 1.0, "redo")
                        assert redo.endswith("right") == (c == true + 10 and true + 10 <= 99), redo


class _Always:
    """A random source whose every draw slips."""
    def random(self):
        return 0.0


def test_check_lines_of_both_worlds_parse():
    line = (85, "-", 29, 56)
    for how in ("redo", "inverse"):
        text = tinyworld.check_line(2, line, None, None, 0.0, how)
        k, a, op, b, c, x, verdict = tinyworld.CHECK.findall(text)[0]
        assert (int(k), int(a), op, int(b), int(c), verdict) == (2, 85, "-", 29, 56, "right")
    assert tinyworld.check_line(2, line, None, None, 0.0, "inverse") == "2. 85-29=56, I get 56+29=85: right"


def test_line_rates_count_what_the_peer_hands_over():
    """One problem with a borrow (68+17=85, 85-29=56): tiny-strong writes the borrow wrong, its partner right, the
    inverse check confirms the partner's line and the fusion takes it."""
    from experiments import warmstart
    p = {"question": "q", "start": 68, "ops": [("+", 17), ("-", 29)], "answer": 56}
    strong = {"share": "1. 68+17=85\n2. 85-29=66\nThe answer is \\boxed{66}.",
              "analysis": "1. 68+17=85, I get 85-17=68: right\n2. 85-29=56, I get 56+29=85: right",
              "fusion": "1. 68+17=85\n2. 85-29=56\nThe answer is \\boxed{56}."}
    weak = {"share": "1. 68+17=85\n2. 85-29=56\nThe answer is \\boxed{56}.", "analysis": "No difference.",
            "fusion": "1. 68+17=85\n2. 85-29=56\nThe answer is \\boxed{56}."}
    rates = warmstart.line_rates([p], [[{"turns": strong}], [{"turns": weak}]], ["inverse-strong", "inverse-weak"])
    r = rates["inverse-strong"]
    assert (r["solve"]["rate"], r["solve"]["n"]) == (0.0, 1)            # its own borrow line was wrong
    assert (r["check_right"]["rate"], r["check_right"]["n"]) == (1.0, 1)
    assert (r["adopt"]["rate"], r["reach"]["rate"], r["reach_adopted"]["rate"]) == (1.0, 1.0, 1.0)
    assert rates["inverse-weak"]["solve"]["n"] == 1                    # its carry line (68+17) was right
    assert rates["inverse-weak"]["solve"]["rate"] == 1.0 and rates["inverse-weak"]["check_right"]["n"] == 0
