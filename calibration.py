"""Perception calibration: shift each agent's reward by where it stands among its peers' rewards on the question.

With m agents and G paired episodes per question b, agent i's k-th reward R[i,b,k] becomes

    Rbar[i,b,k] = R[i,b,k] + sum_{l != i} clip( (R[i,b,k] - mean_l) / (max_l - min_l),  -1/(m-1), +1/(m-1) )

where mean_l, max_l, min_l are over agent l's G rewards on question b in this step. The term rewards an episode
that beats what the peers typically got (and penalises one below it), scaled by the peers' spread; the clip keeps
the total shift within [-1, +1]. Two readings this code makes (the paper leaves them open):
  - a peer whose G rewards are all equal (max_l = min_l, common with 0/1 rewards) adds 0: it has no spread to
    measure against;
  - m = 1 returns the rewards unchanged (there are no peers).
What it does to the advantages (derived in PAPER.md, "Calibration is a weight per question, plus the clip"): the
peers' statistics are constants within agent i's group, so inside the clip Rbar = a_b + c_b R with
c_b = 1 + sum over peers with a spread of 1 / (max_l - min_l), whatever the number of reward levels: mean-centred
advantages are multiplied by c_b (more weight where the peers' rewards are close together), std-scaled ones do not
change. Only the clip bends the map, for episodes far from a peer's mean; credit_change measures that part (the
log's dA). Calibration never reorders a group (the term never decreases in R).

    python calibration.py      # a worked example with two agents
"""
import torch


def calibrate(rewards: torch.Tensor) -> torch.Tensor:
    """rewards (m, B, G) float -> calibrated rewards (m, B, G)."""
    if rewards.dim() != 3:
        raise ValueError(f"rewards must be (agents, questions, episodes), got shape {tuple(rewards.shape)}")
    m = rewards.shape[0]
    if m == 1:
        return rewards.clone()
    mean = rewards.mean(-1, keepdim=True)                                         # (m, B, 1) per peer l
    spread = rewards.amax(-1, keepdim=True) - rewards.amin(-1, keepdim=True)      # (m, B, 1)
    bound = 1.0 / (m - 1)
    out = rewards.clone()
    for i in range(m):
        for l in range(m):
            if l == i:
                continue
            # (R_i - mean_l) / (max_l - min_l) for every episode of agent i; 0 where peer l has no spread
            term = (rewards[i] - mean[l]) / spread[l].clamp(min=1e-12)            # (B, G)
            term = torch.where(spread[l] > 0, term.clamp(-bound, bound), torch.zeros_like(term))
            out[i] += term
    return out


def credit_change(raw_adv: torch.Tensor, cal_adv: torch.Tensor) -> float:
    """How much calibration changed the credit, beyond a weight per question: raw_adv, cal_adv (B, G) ->
    mean over episodes of |A_cal - s_b A_raw|, s_b the least-squares weight of question b. 0 when calibration
    only rescales each group (always, without the clip); the clip's reshaping is what remains."""
    dot = (cal_adv * raw_adv).sum(-1, keepdim=True)                                # (B, 1)
    norm = (raw_adv * raw_adv).sum(-1, keepdim=True)
    scale = torch.where(norm > 0, dot / norm.clamp(min=1e-12), torch.zeros_like(dot))
    return float((cal_adv - scale * raw_adv).abs().mean())


if __name__ == "__main__":
    # Agent 0 and agent 1 on one question, G = 4; rewards = final answer right (1) + 0.5 x first solution right.
    R = torch.tensor([[[1.5, 1.0, 0.0, 0.5]],
                      [[1.5, 1.5, 1.0, 0.0]]])                                     # (m=2, B=1, G=4)
    print("rewards\n", R.squeeze(1), "\ncalibrated\n", calibrate(R).squeeze(1))
    print("two-level rewards\n", torch.tensor([[[1., 0, 0, 1]], [[1., 1, 0, 1]]]).squeeze(1), "\ncalibrated\n",
          calibrate(torch.tensor([[[1., 0, 0, 1]], [[1., 1, 0, 1]]])).squeeze(1),
          "\n(inside the clip every map R -> Rbar is affine per question: after centring it is a weight per question,"
          " after std scaling nothing changes)")
