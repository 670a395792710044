"""Tests for irt.py: recovery on simulated data (fixed seeds), ILR shape, abilities, decisions, tables, bad input."""
import json

import numpy as np
import pytest

import irt

A = 1.7  # the paper's scale; the simulations use it too


def simulate(ability, difficulty, samples=1, seed=0, scale=A):
    """0/1 responses (len(ability) * samples, len(difficulty)); rows of one respondent are adjacent."""
    rng = np.random.default_rng(seed)
    p = irt.prob(ability, difficulty, scale)                             # (R, Q)
    x = rng.random((len(ability), samples, len(difficulty))) < p[:, None, :]
    return x.reshape(-1, len(difficulty)).astype(float)


def recovery(estimate, truth):
    e, t = estimate - estimate.mean(), truth - truth.mean()              # the location is a convention: centre
    return np.corrcoef(e, t)[0, 1], np.sqrt(np.mean((e - t) ** 2)), (e * t).sum() / (t * t).sum()


@pytest.fixture(scope="module")
def ilr():
    """The shape ILR has: 2 agents x 8 samples x 12000 questions, fitted pooled per agent."""
    rng = np.random.default_rng(1)
    gamma, d = np.array([-0.2, 0.6]), rng.normal(0.0, 1.2, 12000)
    x = simulate(gamma, d, samples=8, seed=2)                            # (16, 12000)
    groups = ["A"] * 8 + ["B"] * 8
    return gamma, d, x, groups, irt.fit(x, groups=groups)


# ----------------------------------------------------------------------------------------------- fitting / recovery
def test_recovery_2000_respondents_20_questions():
    """Many respondents, few questions: the slope of fitted on true difficulties must be 1.

    This is where a joint fit (abilities and difficulties in turn, each treating the other as known) goes wrong:
    with L questions each ability is noisy, and joint ML stretches the difficulties (theory: by about L / (L - 1);
    measured on this shape over 5 seeds: slope 1.08), while joint MAP shrinks them (0.95). Integrating each ability
    over its posterior removes that bias, so the marginal estimate is consistent as respondents grow, whatever L
    (measured: 1.00 +- 0.02)."""
    rng = np.random.default_rng(0)
    gamma, d = rng.normal(0.3, 1.0, 2000), rng.normal(0.0, 1.0, 20)     # gamma mean 0.3: location must not matter
    m = irt.fit(simulate(gamma, d, seed=1))
    corr, rmse, slope = recovery(m.difficulty, d)
    assert m.converged
    assert corr >= 0.995 and rmse <= 0.10 and 0.95 <= slope <= 1.05, (corr, rmse, slope)
    assert abs(m.ability_sd - 1.0) < 0.08                                  # the spread of abilities too
    assert abs(m.ability.mean()) < 0.05                                    # location convention: mean ability 0
    assert np.corrcoef(m.ability, gamma)[0, 1] > 0.85                      # 20 answers each: noisy but right


def test_recovery_with_missing_entries():
    rng = np.random.default_rng(3)
    gamma, d = rng.normal(0.0, 1.0, 2000), rng.normal(0.0, 1.0, 20)
    x = simulate(gamma, d, seed=4)
    x[rng.random(x.shape) < 0.3] = np.nan                                  # 30% not asked
    corr, rmse, slope = recovery(irt.fit(x).difficulty, d)
    assert corr >= 0.99 and rmse <= 0.12 and 0.93 <= slope <= 1.07, (corr, rmse, slope)


def test_counts_form_equals_matrix_form():
    rng = np.random.default_rng(5)
    x = simulate(rng.normal(0, 1, 300), rng.normal(0, 1, 15), seed=6)
    x[rng.random(x.shape) < 0.2] = np.nan
    s, n, _ = irt.to_counts(x)
    assert np.allclose(irt.fit(x).difficulty, irt.fit(s, n).difficulty)


def test_fit_is_a_stationary_point_of_the_marginal_posterior():
    """Independent check of the quadrature and the M-step: brute force on a dense fixed grid of abilities, the log
    marginal posterior (abilities integrated out, the prior on D around its mean) is flat at the fitted D and sigma."""
    rng = np.random.default_rng(15)
    x = simulate(rng.normal(0, 1.3, 300), rng.normal(0, 1, 6), seed=16)
    m = irt.fit(x, tol=1e-10, max_iter=5000, n_nodes=21)  # 21: the default 11 is off by 2e-4 here
    grid = np.linspace(-12, 12, 4001)                                     # (G,) abilities, step 0.006

    def log_marginal_posterior(d, sigma):
        u = A * (grid[:, None] - d[None, :])                             # (G, Q)
        loglik = x @ -np.logaddexp(0, -u).T + (1 - x) @ -np.logaddexp(0, u).T    # (R, G)
        logprior = -0.5 * (grid / sigma) ** 2 - np.log(sigma * np.sqrt(2 * np.pi))
        per_row = np.logaddexp.reduce(loglik + logprior, axis=1) + np.log(grid[1] - grid[0])
        return per_row.sum() - ((d - d.mean()) ** 2).sum() / (2 * 3.0 ** 2)

    def gradient(d, sigma, h=1e-4):
        f = lambda dd, ss: log_marginal_posterior(dd, ss)
        gd = [(f(d + h * e, sigma) - f(d - h * e, sigma)) / (2 * h) for e in np.eye(len(d))]
        return np.array(gd + [(f(d, sigma + h) - f(d, sigma - h)) / (2 * h)])

    assert np.abs(gradient(m.difficulty, m.ability_sd)).max() < 1e-3
    assert np.abs(gradient(m.difficulty + [0.05, 0, 0, 0, 0, 0], m.ability_sd)).max() > 1.0   # the check can fail


def test_ilr_shape_finite_stable_ordered_by_pass_rate(ilr):
    """The ILR shape is the reverse of the classic one: each ability rests on 96,000 answers (posterior sd 0.005),
    each difficulty on 16. With complete data the M-step is then the same function of a question's total score for
    every question, so difficulty orders questions exactly by pass rate, and the prior on D keeps the all-right and
    all-wrong questions finite. The agents' gap comes out a few percent wide (0.83 to 0.85 for a true 0.80 over
    several seeds), hence the 0.08 tolerance. Pooling an agent's 8 sample rows gives the same D as fitting them as
    8 respondents (measured: within 5e-5) and is about 8x faster."""
    gamma, d, x, groups, m = ilr
    assert m.converged and m.respondent_ids == ["A", "B"]
    assert np.isfinite(m.difficulty).all() and np.isfinite(m.ability).all()
    total = x.sum(0)                                                       # correct answers per question, of 16
    assert total.min() == 0 and total.max() == 16                          # the extremes are there, and finite
    # higher pass rate -> strictly lower difficulty; equal pass rate -> equal difficulty
    by_total = [m.difficulty[total == c] for c in np.unique(total)]
    assert all(np.ptp(g) < 1e-9 for g in by_total)
    assert all(lo.min() > hi.max() for lo, hi in zip(by_total, by_total[1:]))
    assert m.ability[1] > m.ability[0] and abs((m.ability[1] - m.ability[0]) - 0.8) < 0.08
    assert np.corrcoef(m.difficulty, d)[0, 1] > 0.9                        # 16 answers per question: noisy
    # stable: tighter tolerance changes nothing that matters; one sample row per respondent gives the same D
    tight = irt.fit(x, groups=groups, tol=1e-8, max_iter=2000)
    assert tight.converged and np.abs(tight.difficulty - m.difficulty).max() < 1e-3
    rows = irt.fit(x)                                                      # 16 respondents, not pooled
    assert np.abs(rows.difficulty - m.difficulty).max() < 1e-3
    assert np.allclose(rows.ability[:8], m.ability[0], atol=0.1)


def test_perfect_and_zero_scores_stay_finite():
    x = simulate(np.linspace(-1, 1, 50), np.linspace(-1, 1, 10), seed=7)
    x[:, 0], x[:, 1] = 1.0, 0.0                                            # everyone / no one solved it
    m = irt.fit(x)
    assert np.isfinite(m.difficulty).all() and m.difficulty.argmin() == 0 and m.difficulty.argmax() == 1
    x = simulate(np.linspace(-1, 1, 50), np.linspace(-1, 1, 10), seed=7)
    x[0], x[1] = 1.0, 0.0                                                  # a perfect and a zero score
    m = irt.fit(x)
    assert np.isfinite(m.ability).all() and m.ability.argmax() == 0 and m.ability.argmin() == 1


def test_scale_sets_the_metric():
    rng = np.random.default_rng(8)
    x = simulate(rng.normal(0, 1, 1000), rng.normal(0, 1, 12), seed=9)
    probit, logit = irt.fit(x), irt.fit(x, scale=1.0, difficulty_prior_sd=3.0 * A)
    assert np.allclose(logit.difficulty, A * probit.difficulty, atol=1e-3)  # same model, numbers 1.7x larger
    assert np.allclose(logit.prob(), probit.prob(), atol=1e-4)


# ------------------------------------------------------------------------------------------------------- abilities
def test_new_respondents_against_fixed_difficulties():
    rng = np.random.default_rng(10)
    d, gamma = rng.normal(0, 1, 1000), np.array([-1.0, 0.0, 0.5, 1.5])   # a 1000-question validation split
    s, n, _ = irt.to_counts(simulate(gamma, d, samples=8, seed=11), groups=np.repeat(range(4), 8))
    est, var = irt.estimate_ability(d, s, n, prior_var=1.0, scale=A)
    assert np.abs(est - gamma).max() < 4 * np.sqrt(var).max() < 0.1, (est, var)
    assert np.allclose(irt.estimate_ability(d, np.zeros((1, 1000)), np.zeros((1, 1000)))[0], 0.0)  # no data: prior


def test_cheap_update_matches_one_fit_and_follows_drift():
    rng = np.random.default_rng(12)
    d, ids = rng.normal(0, 1, 600), [f"q{j}" for j in range(600)]
    start = irt.RaschModel(ids, d, ["A", "B"], [0.0, 0.0], [1.0, 1.0], ability_sd=1.0)
    x = simulate(np.array([-0.5, 1.0]), d, samples=4, seed=13)
    s, n, _ = irt.to_counts(x, groups=[0] * 4 + [1] * 4)                  # (2, 600), 4 trials each
    once, _ = irt.estimate_ability(d, s, n, prior_var=1.0)
    m = start
    for b in range(0, 600, 50):                                            # 12 batches of 50 questions
        m = m.update_abilities(ids[b:b + 50], s[:, b:b + 50], n[:, b:b + 50])
    assert np.abs(m.ability - once).max() < 0.02 and (m.ability_var < 0.01).all()
    # the agent got better: without drift the old evidence anchors it, with drift the estimate follows
    better = irt.to_counts(simulate(np.array([0.5, 2.0]), d[:100], samples=4, seed=14), groups=[0] * 4 + [1] * 4)
    stuck = m.update_abilities(ids[:100], better[0], better[1])
    moving = m.update_abilities(ids[:100], better[0], better[1], drift=0.5)
    assert (moving.ability - m.ability > 0.7).all() and (stuck.ability - m.ability < 0.3).all()
    assert m.difficulty is start.difficulty                                # difficulties untouched
    idle = m.update_abilities(ids[:3], np.zeros((2, 3)), np.zeros((2, 3)), drift=0.5)   # no answers: only forget
    assert np.allclose(idle.ability, m.ability) and np.allclose(idle.ability_var, m.ability_var + 0.25)


# ------------------------------------------------------------------------------------------------------- decisions
def test_prob_is_the_paper_formula():
    p = irt.prob([0.5, -1.0], [0.5, 0.0, 2.0])
    assert p.shape == (2, 3) and p[0, 0] == 0.5
    assert np.allclose(p, 1 / (1 + np.exp(-1.7 * (np.array([[0.5], [-1.0]]) - np.array([0.5, 0.0, 2.0])))))
    assert np.allclose(irt.prob([1.0], [0.0], scale=1.0), 1 / (1 + np.exp(-1.0)))


def test_combine_rules():
    p = np.array([[0.2, 0.45, 0.7, 0.5],
                  [0.3, 0.60, 0.9, 0.5]])                                  # (agents, questions)
    C, K = irt.COOPERATE, irt.COMPETE
    assert irt.choose_modes(p) == [C, K, K, K]                             # mean 0.525 competes; 0.5 competes
    assert irt.choose_modes(p, rule="min") == [C, C, K, K]                 # any agent below 0.5
    assert irt.choose_modes(p, rule="max") == [C, K, K, K]                 # all agents below 0.5
    assert irt.choose_modes(p[0]) == [C, C, K, K]                          # one agent


def test_forced_modes_and_ratio_are_reproducible():
    p = np.full((2, 1000), 0.9)
    assert set(irt.choose_modes(p, policy="cooperate")) == {irt.COOPERATE}
    assert set(irt.choose_modes(p, policy="compete")) == {irt.COMPETE}
    for r in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        modes = irt.choose_modes(p, policy="ratio", ratio=r, seed=3)
        assert modes.count(irt.COOPERATE) == round(r * 1000)
    assert irt.choose_modes(p[:, :5], policy="ratio", ratio=0.5).count(irt.COOPERATE) == 3   # 2.5 rounds up
    a, b = (irt.choose_modes(p, policy="ratio", ratio=0.3, seed=s) for s in (3, 3))
    assert a == b and a != irt.choose_modes(p, policy="ratio", ratio=0.3, seed=4)


def test_ilr_modes_from_the_fit(ilr):
    """Fitted modes agree with the modes of the true parameters on about 92% of questions (measured over several
    seeds): each difficulty rests on 16 answers (error about 0.4 near the middle of the scale), so questions
    near P = 0.5 can flip."""
    gamma, d, x, groups, m = ilr
    modes = np.array(irt.choose_modes(m.prob()))
    hard = x.sum(0) <= 3                                                   # few of 16 samples right
    assert (modes[hard] == irt.COOPERATE).all() and (modes[x.sum(0) >= 13] == irt.COMPETE).all()
    truth = np.array(irt.choose_modes(irt.prob(gamma, d)))
    assert (modes == truth).mean() > 0.85                                  # limited by 16 answers per question


# ----------------------------------------------------------------------------------------------------------- tables
def test_table_round_trip_and_mismatch(tmp_path, ilr):
    m, path = ilr[4], tmp_path / "rasch.jsonl"
    ids = [f"math/{j}" for j in range(12000)]
    m = irt.RaschModel(ids, m.difficulty, m.respondent_ids, m.ability, m.ability_var, m.ability_sd, m.scale)
    m.save(path)
    back = irt.RaschModel.load(path, question_ids=ids[::-1])               # order does not matter, the ids do
    assert back.question_ids == ids and np.array_equal(back.difficulty, m.difficulty)
    assert np.array_equal(back.ability, m.ability) and back.scale == m.scale and back.ability_sd == m.ability_sd
    assert np.array_equal(back.difficulty_of(["math/7", "math/3"]), m.difficulty[[7, 3]])
    with pytest.raises(ValueError, match=r"1 of the data set's 12001 question ids are missing.*'math/new'"):
        irt.RaschModel.load(path, question_ids=ids + ["math/new"])
    with pytest.raises(ValueError, match=r"2000 of the table's 12000 ids are not in the data set.*allow_extra"):
        irt.RaschModel.load(path, question_ids=ids[:10000])
    assert len(irt.RaschModel.load(path, question_ids=ids[:10000], allow_extra=True).question_ids) == 12000
    with pytest.raises(KeyError, match="not in the Rasch table"):
        back.difficulty_of(["math/new"])
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "rasch" and json.loads(lines[1])["id"] == "math/0"
    path.write_text("\n".join(lines[:-5]))
    with pytest.raises(ValueError, match="truncated"):
        irt.RaschModel.load(path)


# -------------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, message", [
    (lambda: irt.fit([[0, 1], [1, 2]]), "must be 0, 1 or NaN"),
    (lambda: irt.fit([[0, 0.5], [1, 0]]), "must be 0, 1 or NaN"),
    (lambda: irt.fit([[0, np.nan], [np.nan, np.nan], [1, 0]]), r"1 respondent\(s\) with no observed answers"),
    (lambda: irt.fit([[0, np.nan], [1, np.nan]]), r"question\(s\) with no observed answers, e.g. question '1'"),
    (lambda: irt.fit([[0, 1], [1, 0]], [[1, 1]]), "same .* shape"),
    (lambda: irt.fit([[1, np.nan]], [[1, 1]]), "NaN or inf"),
    (lambda: irt.fit([[2, 0]], [[1, 1]]), "exceed trials"),
    (lambda: irt.fit([[1, 0]], [[1.5, 1]]), "whole numbers"),
    (lambda: irt.fit([0, 1, 1]), "2-D"),
    (lambda: irt.fit([["a", "b"]]), "numeric"),
    (lambda: irt.fit([[0, 1], [1, 0]], question_ids=["a"]), "question_ids has 1 ids but the data has 2"),
    (lambda: irt.fit([[0, 1], [1, 0]], question_ids=["a", "a"]), "unique"),
    (lambda: irt.fit([[0, 1], [1, 0]], groups=["x"]), "groups has 1 labels"),
    (lambda: irt.fit([[0, 1], [1, 0]], groups=["x", "y"], respondent_ids=["a", "b"]), "not both"),
    (lambda: irt.estimate_ability([0.0, np.nan], [[0, 1]]), "finite"),
    (lambda: irt.estimate_ability([0.0], [[0, 1]]), "2 questions but difficulty has 1"),
    (lambda: irt.prob([0.0], [[0.0]]), "1-D"),
    (lambda: irt.choose_modes([[0.2, np.nan]]), "probabilities"),
    (lambda: irt.choose_modes([[0.2, 1.5]]), "probabilities"),
    (lambda: irt.choose_modes([[0.2]], policy="random"), "policy must be one of"),
    (lambda: irt.choose_modes([[0.2]], rule="median"), "rule must be one of"),
    (lambda: irt.choose_modes([[0.2]], policy="ratio"), "ratio is given exactly"),
    (lambda: irt.choose_modes([[0.2]], policy="ratio", ratio=1.2), r"ratio must be in \[0, 1\]"),
])
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_update_rejects_wrong_rows():
    m = irt.RaschModel(["a", "b"], [0.0, 1.0], ["A", "B"], [0.0, 0.0], [1.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="update has 4 rows but the model has 2 respondents"):
        m.update_abilities(["a", "b"], np.ones((4, 2)))
    with pytest.raises(ValueError, match="drift"):
        m.update_abilities(["a", "b"], np.ones((2, 2)), drift=-1.0)


def test_load_rejects_other_files(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"id": "a", "difficulty": 1}\n')
    with pytest.raises(ValueError, match="header"):
        irt.RaschModel.load(tmp_path / "x.jsonl")
    (tmp_path / "y.jsonl").write_text("not json\n")
    with pytest.raises(ValueError, match="not valid JSON"):
        irt.RaschModel.load(tmp_path / "y.jsonl")
    (tmp_path / "z.jsonl").write_text('{"kind": "rasch", "scale": 1.7, "ability_sd": 1, "n_questions": 1, '
                                      '"n_respondents": 0}\n{"kind": "question", "id": "a"}\n')
    with pytest.raises(ValueError, match="not a valid Rasch table: KeyError 'difficulty'"):
        irt.RaschModel.load(tmp_path / "z.jsonl")


# ------------------------------------------------------------------------------------------------ the file itself
def test_running_the_file_prints_a_fit_and_a_decision(capsys):
    irt._demo()
    out = capsys.readouterr().out
    assert "converged=True" in out and "correlation with the truth 0.9" in out
    assert out.count("cooperates on") == len(irt.RULES)


def test_imports_nothing_from_the_project():
    import ast
    tree = ast.parse(open(irt.__file__).read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "json", "math", "dataclasses", "numpy"}, imported
