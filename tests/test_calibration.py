"""calibration.calibrate against hand-computed numbers, and the two-level trap it cannot escape."""
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


def test_two_level_rewards_are_an_affine_no_op():
    """With 0/1 rewards and m = 2, calibration is c0 + c1 R within each group (c1 = 2 where the peer's rewards vary,
    else 1): std-scaled advantages are unchanged and mean-centred ones only rescaled per question. With more levels
    it keeps each group's order but changes the gaps between levels, so the advantages change."""
    g = torch.Generator().manual_seed(1)
    R = torch.randint(0, 2, (2, 50, 8), generator=g).float()                          # (m, B, G) in {0, 1}
    Rbar = calibration.calibrate(R)
    for i in range(2):
        a_raw, zero = grpo.group_advantages(R[i], scale_by_std=True)
        a_cal, _ = grpo.group_advantages(Rbar[i], scale_by_std=True)
        torch.testing.assert_close(a_cal, a_raw, atol=1e-4, rtol=0)
        c_raw, _ = grpo.group_advantages(R[i])
        c_cal, _ = grpo.group_advantages(Rbar[i])
        live = ~zero
        ratio = c_cal[live].abs().sum(-1) / c_raw[live].abs().sum(-1)                   # c1 per question
        torch.testing.assert_close(c_cal[live], c_raw[live] * ratio[:, None])
        assert ((ratio - 1).abs() < 1e-5).logical_or((ratio - 2).abs() < 1e-5).all() and (ratio > 1.5).any()
    # Four levels (final right + 0.5 x first right): the calibrated advantages are no longer a rescaling, and the
    # order within each group is kept.
    R4 = torch.randint(0, 2, (2, 50, 8), generator=g).float() + 0.5 * torch.randint(0, 2, (2, 50, 8), generator=g)
    a_raw, _ = grpo.group_advantages(R4[0], scale_by_std=True)
    a_cal, _ = grpo.group_advantages(calibration.calibrate(R4)[0], scale_by_std=True)
    assert (a_cal - a_raw).abs().max() > 0.05
    order = lambda x: (x[:, :, None] > x[:, None, :])                                 # noqa: E731
    assert torch.equal(order(R4[0]), order(calibration.calibrate(R4)[0]))


def test_bad_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="agents, questions, episodes"):
        calibration.calibrate(torch.zeros(3, 4))
