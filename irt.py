"""Rasch (1PL IRT) model for ILR's Dynamic Interaction: question difficulty, agent ability, cooperate or compete.

The model: respondent i (an agent) answers question q correctly with probability
    P(q, i) = sigmoid(1.7 * (gamma_i - D_q))        gamma_i = ability, D_q = difficulty, both on one scale
An agent's K samples of a question are independent tries with the same P: one binomial count, s_iq right of n_iq.
fit() estimates both by marginal MAP with EM (Bock & Aitkin): the abilities are integrated out,
    maximise over D, sigma   sum_i log integral prod_q Binomial(s_iq | n_iq, P(q, gamma)) N(gamma | 0, sigma^2) dgamma
                             - sum_q (D_q - mean D)^2 / (2 * 3^2)            (a weak prior keeps all-right D finite)
then each gamma_i is its posterior mode (mean ability 0: the likelihood sees only differences gamma - D).

The decision, choose_modes(P) with P = model.prob(question_ids) of shape (agents, questions), one mode per question:
    policy "irt"            combine the agents' P by rule "mean" (default), "min" (cooperate if any agent is below
                            0.5) or "max" (only if all are); cooperate where the result is < 0.5 (0.5 competes)
    "cooperate", "compete"  force one mode on every question
    "ratio"                 cooperate on exactly round(ratio * Q) of the questions passed in, chosen with a seed

Use in ILR, as train.py calls it (our reading of the paper):
    table = fit(successes, trials, question_ids=ids, respondent_ids=agents)  # (agents, Q) counts from self-ranking:
                                                                             # K solo samples per question, trials K
    table.save(path); table = RaschModel.load(path, question_ids=ids)       # cached per agents, data, K, weights
    modes = choose_modes(table.prob(batch_ids), rule="mean")                 # ["cooperate", "compete", ...]
    table = table.update_abilities(batch_ids, right, trials, drift=0.05)    # after a step: (agents, batch) counts of
                                                                             # right first answers out of G samples
fit(responses, groups=agent_of_each_row) also takes 0/1 rows (NaN = not asked) and pools an agent's rows into one.

Table file (RaschModel.save / load, at the end of this file), JSONL: a header {"kind": "rasch", "scale",
"ability_sd", ...}, then one line per question {"kind": "question", "id", "difficulty"} and per respondent
{"kind": "respondent", "id", "ability", "ability_var"}.
Run: python irt.py (simulate, fit and decide in a second); python -m bench.bench_irt (speed); pytest tests/test_irt.py
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

import numpy as np

PAPER_SCALE = 1.7  # the paper's constant: sigmoid(1.7 x) is within 0.01 of the normal CDF, the probit metric
COOPERATE, COMPETE = "cooperate", "compete"
POLICIES = ("irt", "cooperate", "compete", "ratio")
RULES = ("mean", "min", "max")
MIN_ABILITY_SD = 0.05  # floor for sigma: identical respondents would drive it to 0, a prior of zero width


# ------------------------------------------------------------------------------------------------------- the model

def prob(ability, difficulty, scale: float = PAPER_SCALE) -> np.ndarray:
    """P[i, q] = sigmoid(scale * (ability[i] - difficulty[q])): (A,), (Q,) -> (A, Q).

    With scale 1.7, gamma - D = 1 means log-odds 1.7; with scale=1.0 abilities and difficulties are plain logits.
    """
    ability, difficulty = _vector(ability, "ability"), _vector(difficulty, "difficulty")
    return _sigmoid(scale * (ability[:, None] - difficulty[None, :]))


@dataclass
class RaschModel:
    """Fitted difficulties and abilities on one scale; make one with fit() or RaschModel.load()."""
    question_ids: list[str]    # (Q,)
    difficulty: np.ndarray     # (Q,) D_q
    respondent_ids: list[str]  # (R,) in ILR: one per agent
    ability: np.ndarray        # (R,) gamma_i, posterior mode
    ability_var: np.ndarray    # (R,) its posterior variance: the prior of the next cheap update
    ability_sd: float          # sigma, the fitted spread of abilities: prior N(0, sigma^2) for new respondents
    scale: float = PAPER_SCALE
    n_iter: int = 0            # EM iterations fit() used
    converged: bool = True     # whether fit() met its tolerance within max_iter
    _index: dict = field(init=False, repr=False, compare=False)  # question id -> position

    def __post_init__(self):
        self.question_ids = _ids(self.question_ids, len(self.question_ids), "question_ids")
        self.respondent_ids = _ids(self.respondent_ids, len(self.respondent_ids), "respondent_ids")
        self.difficulty = _vector(self.difficulty, "difficulty")
        self.ability, self.ability_var = _vector(self.ability, "ability"), _vector(self.ability_var, "ability_var")
        if self.difficulty.size != len(self.question_ids):
            raise ValueError(f"{self.difficulty.size} difficulties for {len(self.question_ids)} question ids")
        if not self.ability.size == self.ability_var.size == len(self.respondent_ids):
            raise ValueError("ability, ability_var and respondent_ids must have the same length")
        if not ((self.ability_var > 0).all() and self.ability_sd > 0 and self.scale > 0):
            raise ValueError("ability_var, ability_sd and scale must be > 0")
        self._index = {q: j for j, q in enumerate(self.question_ids)}

    def prob(self, question_ids=None) -> np.ndarray:
        """P(q, i) of every respondent (agent) on the given questions (default: all): (R, Q)."""
        difficulty = self.difficulty if question_ids is None else self.difficulty_of(question_ids)
        return prob(self.ability, difficulty, self.scale)

    def difficulty_of(self, question_ids) -> np.ndarray:
        """Difficulties of the given question ids, in that order: (len(question_ids),)."""
        ids = [str(q) for q in question_ids]
        unknown = [q for q in ids if q not in self._index]
        if unknown:
            raise KeyError(f"{len(unknown)} question ids are not in the Rasch table, e.g. {unknown[0]!r}; "
                           f"refit on responses that include them")
        return self.difficulty[[self._index[q] for q in ids]]

    def update_abilities(self, question_ids, responses, trials=None, drift: float = 0.0) -> "RaschModel":
        """Cheap update from new answers (rows = self.respondent_ids), difficulties fixed; returns a new model.

        A Laplace (Kalman-like) step: the prior is the current posterior N(ability, ability_var + drift^2) and only
        the new answers are added. With drift = 0 a stream of batches ends close to one fit on all of them; drift > 0
        forgets old evidence (a random-walk step per call) so the estimate can follow an agent that is learning.
        Cost: O(R x new questions).
        """
        if drift < 0:
            raise ValueError(f"drift must be >= 0, got {drift}")
        successes, trials = _counts(responses, trials)
        if successes.shape[0] != len(self.respondent_ids):
            raise ValueError(f"update has {successes.shape[0]} rows but the model has {len(self.respondent_ids)} "
                             f"respondents {self.respondent_ids}; pool samples per agent with to_counts(.., groups)")
        ability, ability_var = estimate_ability(self.difficulty_of(question_ids), successes, trials,
                                                prior_mean=self.ability, prior_var=self.ability_var + drift ** 2,
                                                scale=self.scale)
        return replace(self, ability=ability, ability_var=ability_var)

    def save(self, path) -> None:
        """Write the table file described in the module docstring (save_table, at the end of this file)."""
        save_table(self, path)

    @classmethod
    def load(cls, path, question_ids=None, allow_extra: bool = False) -> "RaschModel":
        """Read a table written by save() and check it against the data set's question ids (load_table)."""
        return load_table(path, question_ids, allow_extra)


# ---------------------------------------------------------------------------------------------------- the decision

def choose_modes(p, policy: str = "irt", rule: str = "mean", ratio: float | None = None, seed: int = 0) -> list[str]:
    """One mode per question, shared by all agents: a list of "cooperate" / "compete" of length Q.

    p: (A, Q) P(q, i) of each agent on each question (model.prob(question_ids)); a 1-D p is one agent.
    policy "irt": combine the agents' P by rule ("mean", "min", "max"), cooperate where the result < 0.5.
    "cooperate" / "compete": forced. "ratio": exactly round(ratio * Q) questions cooperate (half rounds up), chosen
    by a generator seeded with seed (p only gives Q); same seed, same modes. For an exact fraction over the whole
    training set (the paper's sweep ratio = 0, 0.2, ..., 1), pass all of its questions in one call.
    """
    p = np.asarray(p, dtype=float)
    p = p[None, :] if p.ndim == 1 else p                                   # (A, Q)
    if p.ndim != 2 or p.size == 0 or not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"p must be a non-empty (agents, questions) matrix of probabilities in [0, 1], "
                         f"got shape {p.shape}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if (policy == "ratio") != (ratio is not None):
        raise ValueError("ratio is given exactly when policy='ratio'")
    n_questions = p.shape[1]
    if policy == "irt":
        combined = {"mean": p.mean(0), "min": p.min(0), "max": p.max(0)}[rule]  # (Q,)
        cooperate = combined < 0.5
    elif policy == "ratio":
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio must be in [0, 1], got {ratio}")
        n_cooperate = int(math.floor(ratio * n_questions + 0.5))
        cooperate = np.zeros(n_questions, dtype=bool)
        cooperate[np.random.default_rng(seed).permutation(n_questions)[:n_cooperate]] = True
    else:
        cooperate = np.full(n_questions, policy == "cooperate")
    return [COOPERATE if c else COMPETE for c in cooperate]


# --------------------------------------------------------------------------------------------------- the estimator

def fit(responses, trials=None, *, groups=None, question_ids=None, respondent_ids=None, scale: float = PAPER_SCALE,
        difficulty_prior_sd: float = 3.0, n_nodes: int = 11, tol: float = 1e-4, max_iter: int = 500) -> RaschModel:
    """Fit difficulties and abilities on one scale by marginal maximum a posteriori, with EM (Bock & Aitkin 1981).

    responses: (R, Q) 0/1 with NaN = missing; or success counts with trials (R, Q). groups: one label per row to
    pool rows into respondents (an agent's K samples); the respondent ids are then the labels. question_ids,
    respondent_ids: default "0", "1", ... Stops when no difficulty nor sigma moves by tol in an iteration;
    model.converged says whether that happened within max_iter. Memory: a few (R, n_nodes, Q) float64 arrays.

    Abilities are integrated out under N(0, sigma^2) (sigma fitted; this fixes the location: mean ability 0), so the
    difficulties do not take on the noise of point estimates of the abilities. Each difficulty has a weak prior
    N(mean difficulty, difficulty_prior_sd^2), which keeps a question everyone (no one) solved finite. n_nodes:
    Gauss-Hermite nodes per respondent (11 agree with 41 within 1e-5 on 2000 x 20 data). Abilities: posterior modes.
    """
    successes, trials = _counts(responses, trials)
    if groups is not None:
        if respondent_ids is not None:
            raise ValueError("pass groups or respondent_ids, not both: with groups the labels are the respondent ids")
        successes, trials, respondent_ids = _pool(successes, trials, groups)
    n_respondents, n_questions = successes.shape
    question_ids = _ids(question_ids, n_questions, "question_ids")
    respondent_ids = _ids(respondent_ids, n_respondents, "respondent_ids")
    for axis, name, ids in ((1, "respondent", respondent_ids), (0, "question", question_ids)):
        empty = np.flatnonzero(trials.sum(axis) == 0)
        if empty.size:
            raise ValueError(f"{empty.size} {name}(s) with no observed answers, e.g. {name} {ids[empty[0]]!r}; "
                             f"drop them (nothing can be learned about them) or collect their answers")
    if not (scale > 0 and difficulty_prior_sd > 0 and n_nodes >= 3):
        raise ValueError("need scale > 0, difficulty_prior_sd > 0 and n_nodes >= 3")
    scale, difficulty_prior_var = float(scale), float(difficulty_prior_sd) ** 2
    # sum_k node_weights[k] f(nodes[k]) ~ integral of f(z) exp(-z^2 / 2) dz; adding z^2 / 2 to the log weights makes
    # the nodes weigh by the target density itself, not by N(0, 1) times it
    nodes, node_weights = np.polynomial.hermite_e.hermegauss(n_nodes)   # (K,), (K,)
    log_node_weights = np.log(node_weights) + 0.5 * nodes ** 2           # (K,)
    pass_rate = (successes.sum(0) + 0.5) / (trials.sum(0) + 1.0)         # (Q,) smoothed, never 0 or 1
    difficulty = -np.log(pass_rate / (1 - pass_rate)) / scale            # (Q,) start: everyone at ability 0
    ability, ability_sd, converged, iteration = np.zeros(n_respondents), 1.0, False, 0
    for iteration in range(1, max_iter + 1):
        ability, theta, weights = _e_step(difficulty, successes, trials, ability, ability_sd, scale, nodes,
                                          log_node_weights)
        new_difficulty, shift, new_ability_sd = _m_step(difficulty, theta, weights, successes, trials, scale,
                                                        difficulty_prior_var)
        ability = ability - shift
        change = max(np.abs(new_difficulty - difficulty).max(), abs(new_ability_sd - ability_sd))
        difficulty, ability_sd = new_difficulty, new_ability_sd
        if change < tol:
            converged = True
            break
    ability, ability_var = _ability_mode(difficulty, successes, trials, 0.0, ability_sd ** 2, scale, ability)
    return RaschModel(question_ids, difficulty, respondent_ids, ability, ability_var, ability_sd, scale, iteration,
                      converged)


def _e_step(difficulty, successes, trials, ability, ability_sd, scale, nodes, log_node_weights):
    """Each respondent's ability posterior, on quadrature nodes of its own (adaptive Gauss-Hermite).

    The nodes sit at mode_r + sd_r * z_k, mode and sd of respondent r's posterior found by Newton from `ability`,
    so a posterior resting on 100,000 answers (sd 0.005) is resolved as well as one resting on 20 (sd 0.3).
    Returns the modes (R,), the nodes theta (R, K) and their posterior weights (R, K), each row summing to 1.
    """
    mode, var = _ability_mode(difficulty, successes, trials, 0.0, ability_sd ** 2, scale, ability)   # (R,), (R,)
    theta = mode[:, None] + np.sqrt(var)[:, None] * nodes[None, :]                               # (R, K)
    logit = scale * (theta[:, :, None] - difficulty[None, None, :])                                # (R, K, Q)
    log_lik = (successes[:, None, :] * _log_sigmoid(logit)
               + (trials - successes)[:, None, :] * _log_sigmoid(-logit)).sum(-1)                 # (R, K)
    log_weights = log_lik - 0.5 * theta ** 2 / ability_sd ** 2 + log_node_weights                 # (R, K)
    weights = np.exp(log_weights - log_weights.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)                                                       # (R, K)
    return mode, theta, weights


def _m_step(difficulty, theta, weights, successes, trials, scale, difficulty_prior_var, newton_steps=3):
    """New difficulties (Q,), the location shift applied to them, and the new ability sd sigma.

    Each D_q maximises  sum_r sum_k weights[r, k] * log-likelihood of question q's answers at theta[r, k]
    - (D_q - mean D)^2 / (2 * difficulty_prior_var): concave in D_q, so a few Newton steps, all questions at once
    (uphill is enough for EM). Then everything shifts so that the mean posterior ability is 0: the likelihood
    cannot see a common shift, and making it here saves EM hundreds of slow iterations when abilities are sharp.
    sigma^2 is the mean posterior E[gamma^2] after the shift.
    """
    for _ in range(newton_steps):
        p = _sigmoid(scale * (theta[:, :, None] - difficulty[None, None, :]))                     # (R, K, Q)
        expected_p = np.einsum("rk,rkq->rq", weights, p)                                           # (R, Q)
        expected_pq = np.einsum("rk,rkq->rq", weights, p * (1 - p))                                # (R, Q)
        gradient = (scale * (trials * expected_p - successes).sum(0)
                    - (difficulty - difficulty.mean()) / difficulty_prior_var)                     # (Q,)
        curvature = scale * scale * (trials * expected_pq).sum(0) + 1.0 / difficulty_prior_var     # (Q,) > 0
        difficulty = difficulty + np.clip(gradient / curvature, -1.0, 1.0)
    posterior_mean = (weights * theta).sum(1)                                                      # (R,)
    shift = posterior_mean.mean()
    ability_sd = max(math.sqrt(float((weights * (theta - shift) ** 2).sum(1).mean())), MIN_ABILITY_SD)
    return difficulty - shift, shift, ability_sd


def estimate_ability(difficulty, responses, trials=None, *, prior_mean=0.0, prior_var=1.0,
                     scale: float = PAPER_SCALE):
    """Abilities against FIXED difficulties: posterior mode under N(prior_mean, prior_var), Newton per respondent.

    difficulty (Q,); responses (R, Q) 0/1/NaN, or successes with trials; prior_mean, prior_var scalars or (R,).
    Returns (ability, var), both (R,); var = 1 / curvature at the mode. A row with no answers returns its prior.
    A new respondent (an agent measured on a validation split) takes the fitted prior N(0, model.ability_sd^2).
    """
    difficulty = _vector(difficulty, "difficulty")
    successes, trials = _counts(responses, trials)
    if successes.shape[1] != difficulty.size:
        raise ValueError(f"responses have {successes.shape[1]} questions but difficulty has {difficulty.size}")
    n_respondents = successes.shape[0]
    mean = np.broadcast_to(np.asarray(prior_mean, dtype=float), (n_respondents,)).copy()
    var = np.broadcast_to(np.asarray(prior_var, dtype=float), (n_respondents,)).copy()
    if not (np.isfinite(mean).all() and np.isfinite(var).all() and (var > 0).all()):
        raise ValueError("prior_mean must be finite and prior_var finite and > 0")
    return _ability_mode(difficulty, successes, trials, mean, var, float(scale), mean.copy())


def _ability_mode(difficulty, successes, trials, prior_mean, prior_var, scale, start, max_iter=100):
    """Newton for the posterior mode of each ability under N(prior_mean, prior_var), from `start`.

    Returns (mode, 1 / curvature at the mode), (R,) each: the Laplace approximation of the posterior.
    """
    ability = start
    for _ in range(max_iter):
        p = _sigmoid(scale * (ability[:, None] - difficulty[None, :]))                      # (R, Q)
        gradient = scale * (successes - trials * p).sum(1) - (ability - prior_mean) / prior_var  # (R,)
        curvature = scale * scale * (trials * p * (1 - p)).sum(1) + 1.0 / prior_var         # (R,) > 0
        # clipped: far from the mode the sigmoid saturates and a full Newton step would overshoot
        step = np.clip(gradient / curvature, -1.0, 1.0)                                     # (R,)
        ability = ability + step
        if np.abs(step).max() < 1e-9:
            break
    p = _sigmoid(scale * (ability[:, None] - difficulty[None, :]))
    return ability, 1.0 / (scale * scale * (trials * p * (1 - p)).sum(1) + 1.0 / prior_var)


def to_counts(responses, groups=None):
    """0/1 responses (NaN = missing) -> (successes, trials, labels), one row per response row or per group.
    (Used by the tests and bench/bench_irt.py; train.py's self-ranking counts successes itself.)

    groups: None, or one label per row (e.g. the agent that wrote each sample); rows sharing a label are summed, so
    an agent's K samples become one binomial row with up to K trials. labels: groups in order of first appearance.
    """
    successes, trials = _counts(responses)
    return _pool(successes, trials, groups)


def _pool(successes, trials, groups):
    """Sum the rows of each group: (R, Q) -> (G, Q) successes and trials, and the G labels."""
    if groups is None:
        return successes, trials, [str(r) for r in range(successes.shape[0])]
    groups = [str(g) for g in groups]
    if len(groups) != successes.shape[0]:
        raise ValueError(f"groups has {len(groups)} labels but the responses have {successes.shape[0]} rows")
    labels = list(dict.fromkeys(groups))
    row_to_group = np.array([labels.index(g) for g in groups])                  # (R,)
    pooled_successes = np.zeros((len(labels), successes.shape[1]))              # (G, Q)
    pooled_trials = np.zeros((len(labels), successes.shape[1]))                 # (G, Q)
    np.add.at(pooled_successes, row_to_group, successes)
    np.add.at(pooled_trials, row_to_group, trials)
    return pooled_successes, pooled_trials, labels


# ------------------------------------------------------------------------------------ numerics and input checking

def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for any x, no overflow warnings


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _vector(x, name) -> np.ndarray:
    v = np.asarray(x, dtype=float)
    if v.ndim != 1 or not np.isfinite(v).all():
        raise ValueError(f"{name} must be a 1-D array of finite numbers, got shape {v.shape}"
                         + ("" if v.ndim != 1 else " with NaN/inf"))
    return v


def _matrix(x, name) -> np.ndarray:
    try:
        m = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a numeric (respondents, questions) matrix: {e}") from None
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D (respondents, questions) matrix, got shape {m.shape}")
    return m


def _counts(responses, trials=None):
    """(responses 0/1/NaN) or (successes, trials) -> successes, trials: float (R, Q) each, checked."""
    successes = _matrix(responses, "responses" if trials is None else "successes")
    if trials is None:  # the user-facing form: 0/1, NaN = not asked
        bad = ~(np.isnan(successes) | (successes == 0) | (successes == 1))
        if bad.any():
            r, q = np.argwhere(bad)[0]
            raise ValueError(f"responses must be 0, 1 or NaN (missing); {bad.sum()} entries are not, e.g. "
                             f"{successes[r, q]!r} at row {r}, column {q}. Grade answers to 0/1 first, or pass counts "
                             f"with trials=.")
        asked = (~np.isnan(successes)).astype(float)
        return np.nan_to_num(successes, nan=0.0), asked
    trials = _matrix(trials, "trials")
    if successes.shape != trials.shape:
        raise ValueError(f"successes {successes.shape} and trials {trials.shape} must have the same "
                         f"(respondents, questions) shape")
    for name, m in (("successes", successes), ("trials", trials)):
        if not np.isfinite(m).all():
            raise ValueError(f"{name} contains NaN or inf; with counts, a missing answer is trials = 0")
        if (m < 0).any() or (m != np.round(m)).any():
            raise ValueError(f"{name} must be non-negative whole numbers")
    if (successes > trials).any():
        r, q = np.argwhere(successes > trials)[0]
        raise ValueError(f"successes exceed trials at row {r}, column {q} ({successes[r, q]:g} > {trials[r, q]:g})")
    return successes, trials


def _ids(ids, size, name) -> list[str]:
    if ids is None:
        return [str(i) for i in range(size)]
    ids = [str(i) for i in ids]  # ids are compared as strings everywhere (they round-trip through JSON that way)
    if len(ids) != size:
        raise ValueError(f"{name} has {len(ids)} ids but the data has {size}")
    if len(set(ids)) != size:
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"{name} must be unique; {dup!r} appears more than once")
    return ids


# ------------------------------------------------------------------------------------ persistence: the table file

def save_table(model: RaschModel, path) -> None:
    """Write `model` as the table file described in the module docstring (RaschModel.save)."""
    with open(path, "w") as f:
        f.write(json.dumps({"kind": "rasch", "scale": model.scale, "ability_sd": model.ability_sd,
                            "n_questions": len(model.question_ids), "n_respondents": len(model.respondent_ids),
                            "n_iter": model.n_iter, "converged": model.converged}) + "\n")
        for q, d in zip(model.question_ids, model.difficulty.tolist()):
            f.write(json.dumps({"kind": "question", "id": q, "difficulty": d}) + "\n")
        for r, g, v in zip(model.respondent_ids, model.ability.tolist(), model.ability_var.tolist()):
            f.write(json.dumps({"kind": "respondent", "id": r, "ability": g, "ability_var": v}) + "\n")


def load_table(path, question_ids=None, allow_extra: bool = False) -> RaschModel:
    """Read a table written by save_table (RaschModel.load). question_ids: the data set's ids; the table must hold
    exactly these (or a superset with allow_extra=True, e.g. a train + validation table used on the train split;
    allow_extra is used by the tests: train.py's table always holds exactly its train + validation ids)."""
    rows = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{line_no} is not valid JSON ({e}); is this a Rasch table?") from None
    if not rows or rows[0].get("kind") != "rasch":
        raise ValueError(f"{path} does not start with a {{\"kind\": \"rasch\", ...}} header; write it with "
                         f"RaschModel.save")
    head = rows[0]
    questions = [r for r in rows[1:] if r.get("kind") == "question"]
    respondents = [r for r in rows[1:] if r.get("kind") == "respondent"]
    if len(questions) != head.get("n_questions") or len(respondents) != head.get("n_respondents"):
        raise ValueError(f"{path} holds {len(questions)} questions and {len(respondents)} respondents but its "
                         f"header says {head['n_questions']} and {head['n_respondents']}: "
                         f"truncated or edited file")
    try:
        model = RaschModel([r["id"] for r in questions], [r["difficulty"] for r in questions],
                           [r["id"] for r in respondents], [r["ability"] for r in respondents],
                           [r["ability_var"] for r in respondents], float(head["ability_sd"]), float(head["scale"]),
                           int(head.get("n_iter", 0)), bool(head.get("converged", True)))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path} is not a valid Rasch table: {type(e).__name__} {e}") from None
    if question_ids is not None:
        data_ids = [str(q) for q in question_ids]
        table, data = set(model.question_ids), set(data_ids)
        missing = [q for q in data_ids if q not in table]
        extra = [q for q in model.question_ids if q not in data]
        if missing or (extra and not allow_extra):
            raise ValueError(
                f"Rasch table {path} does not match the data set: {len(missing)} of the data set's "
                f"{len(data)} question ids are missing from the table"
                + (f" (e.g. {missing[0]!r})" if missing else "")
                + f", {len(extra)} of the table's {len(table)} ids are not in the data set"
                + (f" (e.g. {extra[0]!r})" if extra else "")
                + ". Refit on this data set's responses, or pass allow_extra=True for a superset table.")
    return model


# ---------------------------------------------------------------------------------------------------- python irt.py

def _demo(n_questions: int = 400, samples: int = 8, seed: int = 0) -> None:
    """Simulate ILR-shaped answers (2 agents x K samples x Q questions), fit them, and print what comes out."""
    rng = np.random.default_rng(seed)
    true_ability = np.array([-0.2, 0.6])                                  # (A,) a weaker and a stronger agent
    true_difficulty = rng.normal(0.0, 1.2, n_questions)                   # (Q,)
    true_p = prob(true_ability, true_difficulty)                          # (A, Q)
    correct = rng.random((2, samples, n_questions)) < true_p[:, None, :]  # (A, K, Q)
    responses = correct.reshape(2 * samples, n_questions).astype(float)   # (A * K, Q) rows of one agent adjacent
    model = fit(responses, groups=["weak"] * samples + ["strong"] * samples)
    fitted_modes = choose_modes(model.prob())
    true_modes = choose_modes(true_p)
    same = np.mean([f == t for f, t in zip(fitted_modes, true_modes)])
    print(f"simulated: 2 agents x {samples} samples x {n_questions} questions, P = sigmoid(1.7 (gamma - D)), "
          f"seed {seed}")
    print(f"fit: {model.n_iter} EM iterations, converged={model.converged}")
    print(f"abilities    true {true_ability[0]:+.2f} {true_ability[1]:+.2f} (gap {np.ptp(true_ability):.2f})   "
          f"fitted {model.ability[0]:+.2f} {model.ability[1]:+.2f} (gap {np.ptp(model.ability):.2f}; "
          f"the fit puts the mean ability at 0)")
    print(f"difficulties correlation with the truth {np.corrcoef(model.difficulty, true_difficulty)[0, 1]:.3f} "
          f"(each question answered {2 * samples} times)")
    for rule in RULES:
        ratio = choose_modes(model.prob(), rule=rule).count(COOPERATE) / n_questions
        true_ratio = choose_modes(true_p, rule=rule).count(COOPERATE) / n_questions
        print(f"choose_modes rule={rule:<4s} cooperates on {ratio:6.1%} of questions (true parameters: "
              f"{true_ratio:6.1%})")
    print(f"rule=mean picks the same mode as the true parameters on {same:.1%} of questions")


if __name__ == "__main__":
    _demo()
