"""calibration.calibrate against hand-computed numbers; inside the clip it is a weight per question."""
import pytest
import torch

import calibration
import grpo


def test_two_agents_by_hand():
    R = torch.tensor([[[1.5, 1.0, 0.0, 0.5], [1.0, 0.0, 1.0, 0.0]],
                      [[1.5, 1.5, 1.0, 0.0], [0.2, 0.0, 0.2, 0.0]]])                  # (m=2, B=2, G=4)
    want = torch.tensor([
        # question 0: the peer's rewards have mean 1.0 (agent 0 sees agent 1) / 0.75 and spread 1.5
        [[1.5 + 0.5 / 1.5, 1.0, 0.0 - 1 / 1.5, 0.5 - 0.5 / 1.5],
         # question 1: peer mean 0.1, spread 0.2 -> (1 - 0.1) / 0.2 = 4.5 is clipped to +1 (bound 1/(m-1) = 1)
         [2.0, -0.5, 2.0, -0.5]],
        [[2.0, 2.0, 1.0 + 0.25 / 1.5, -0.5],
         [0.2 - 0.3, -0.5, 0.2 - 0.3, -0.5]]])
    torch.testing.assert_close(calibration.calibrate(R), want)


def test_three_agents_by_hand_with_a_zero_range_peer():
    R = torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]], [[0.5, 0.0]]])                       # (m=3, B=1, G=2)
    # bound 1/(m-1) = 0.5. Agent 1 has no spread, so it adds 0 to the others.
    # agent 0: vs agent 2 (mean 0.25, spread 0.5): +1.5 -> clipped 0.5, and -0.5
    # agent 1: vs agent 0 (mean 0.5, spread 1): +0.5; vs agent 2: +1.5 -> 0.5; both episodes 1 + 1 = 2
    # agent 2: vs agent 0: (0.5 - 0.5) / 1 = 0 and (0 - 0.5) / 1 = -0.5
    want = torch.tensor([[[1.5, -0.5]], [[2.0, 2.0]], [[0.5, -0.5]]])
    torch.testing.assert_close(calibration.calibrate(R), want)


def test_all_equal_peers_and_one_agent_change_nothing():
    R = torch.tensor([[[1.0, 0.0, 0.5]], [[0.0, 0.0, 0.0]]])
    torch.testing.assert_close(calibration.calibrate(R)[0], R[0])      # the peer has no spread: +0
    torch.testing.assert_close(calibration.calibrate(R[:1]), R[:1])   # m = 1: no peers


def test_the_shift_stays_within_plus_minus_one():
    g = torch.Generator().manual_seed(0)
    for m in (2, 3, 5):
        R = torch.rand(m, 7, 6, generator=g) * 3
        shift = calibration.calibrate(R) - R
        assert shift.abs().max() <= 1 + 1e-6 and shift.abs().max() > 0.1


def test_inside_the_clip_calibration_is_a_weight_per_question():
    """Within a group the peer's mean and spread are constants, so inside the clip Rbar = a_b + c_b R with
    c_b = 1 + 1 / (max_l - min_l) (m = 2; c_b = 1 where the peer has no spread), whatever the number of reward
    levels: std-scaled advantages are unchanged and mean-centred ones rescaled by c_b. Only groups where the clip
    bites change otherwise, and credit_change (the log's dA) sees exactly those."""
    g = torch.Generator().manual_seed(1)
    two = torch.randint(0, 2, (2, 50, 8), generator=g).float()                        # (m, B, G) in {0, 1}
    four = two + 0.5 * torch.randint(0, 2, (2, 50, 8), generator=g).float()           # four levels
    for R in (two, four):
        Rbar = calibration.calibrate(R)
        peer = R[1]
        spread = peer.amax(-1) - peer.amin(-1)                                          # (B,)
        term = (R[0] - peer.mean(-1, keepdim=True)) / spread.clamp(min=1e-12)[:, None]
        clipped = (spread > 0) & (term.abs() > 1 + 1e-9).any(-1)                        # (B,) the clip bites
        c = torch.where(spread > 0, 1 + 1 / spread.clamp(min=1e-12), torch.ones_like(spread))
        raw, zero = grpo.group_advantages(R[0])
        cal, _ = grpo.group_advantages(Rbar[0])
        keep = ~clipped
        torch.testing.assert_close(cal[keep], raw[keep] * c[keep, None], atol=1e-5, rtol=1e-5)
        assert calibration.credit_change(raw[keep], cal[keep]) < 1e-5
        s_raw, _ = grpo.group_advantages(R[0], scale_by_std=True)
        s_cal, _ = grpo.group_advantages(Rbar[0], scale_by_std=True)
        torch.testing.assert_close(s_cal[keep], s_raw[keep], atol=1e-4, rtol=0)
        if R is two:
            assert not clipped.any()                       # |R - mean_l| <= 1 = the spread: the clip never bites
        else:
            assert clipped.any() and calibration.credit_change(raw[clipped], cal[clipped]) > 0.01
        order = lambda x: (x[:, :, None] > x[:, None, :])                             # noqa: E731
        assert torch.equal(order(R[0]), order(Rbar[0]))    # never reordered


def test_bad_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="agents, questions, episodes"):
        calibration.calibrate(torch.zeros(3, 4))
