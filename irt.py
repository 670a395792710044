"""Rasch (1PL IRT) model for ILR's Dynamic Interaction: question difficulty, agent ability, cooperate or compete.

The model. Respondent i solves question q with probability

    P(q, i) = sigmoid(a * (gamma_i - D_q)),       a = `scale` = 1.7 (the paper's constant)

gamma_i is the ability, D_q the difficulty; only the difference matters, so both live on ONE scale. Which metric:
with a = 1.7, sigmoid(1.7 x) stays within 0.01 of the normal CDF Phi(x), so the numbers are in the normal-ogive
(probit-like) metric: gamma - D = 1 means log-odds 1.7. With scale=1.0 they are plain logits (1.7 times larger).

Data. successes s[r, q] out of trials n[r, q] (missing = 0 trials). A 0/1 matrix with NaN for missing is the case
n in {0, 1}. In ILR each agent is sampled K times per question; the K samples are independent draws with the same
P(q, i), so an agent is ONE respondent with a binomial row (s out of K): fit(..., groups=agent_of_each_row) pools the
rows. That is exactly "one ability per agent"; averaging per-sample abilities would be a noisier version of it.

Estimator: marginal maximum a posteriori by EM (Bock & Aitkin 1981), with adaptive Gauss-Hermite quadrature.
  - Abilities are random, gamma ~ N(0, sigma^2), sigma estimated. Location: MEAN ABILITY = 0, so D_q = 0 is a
    question the average respondent solves half the time (natural next to "P < 0.5 -> cooperate").
  - Difficulties are parameters with a weak prior on their spread around their own mean Dbar: D_q ~ N(Dbar, tau^2),
    tau = difficulty_prior_sd = 3 (+-5 logits at one sd, wider than real item banks). It keeps a question that
    everyone (no one) solved finite: its maximum-likelihood difficulty is -inf (+inf). Centring it on Dbar, not 0,
    leaves the objective unchanged by a common shift of all gamma and D, so the prior never fights the location
    convention: each iteration shifts D to put the mean posterior ability at 0 (a parameter-expansion step that
    only speeds EM up; without it EM creeps along that shift for hundreds of iterations when abilities are sharp).
    Respondents with perfect (zero) scores stay finite through N(0, sigma^2).
  - E-step: each respondent's ability posterior, on K = n_nodes nodes of its OWN: theta[r, k] = mode_r + sd_r z_k
    (Gauss-Hermite z_k; mode and sd by Newton), weighted by posterior / Gaussian. A posterior from 12000 answers
    (sd 0.005) is then resolved as well as one from 20 answers (sd 0.3); a grid shared by all would snap the sharp
    ones to its nodes. 11 nodes agree with 41 to 1e-5 on the 2000 x 20 test.
  - M-step: each D_q maximises  sum_r sum_k w[r,k] (s[r,q] log P(theta[r,k] - D_q) + (n - s)[r,q] log(1 - P))
    - (D_q - Dbar)^2 / (2 tau^2), a concave 1-D problem: a few Newton steps, vectorised over questions.
    sigma^2 is the mean posterior E[gamma^2]. Finally each gamma_r is its posterior mode (with variance) given D.
Why not joint ML/MAP (fit gamma and D in turn as if the other were known)? With few questions each gamma is noisy,
and joint ML spreads the difficulties out by about L/(L-1) (5% for L = 20 questions: the issue's slope bound), joint
MAP shrinks them. Averaging over each ability's posterior instead of plugging in a point removes that: marginal
difficulties are consistent as respondents grow, whatever the number of questions (test: slope 1.00 +- 0.01).
The ILR shape (2 agents x K = 8 samples x 12000 questions) is the other way round: abilities rest on 96000 answers
(posterior sd 0.005, so the fit is joint MAP in effect), each difficulty on 16. Then the prior sets how far the
extreme questions go, and with complete data the M-step is the same function of the question's total score for
every q, so D orders questions exactly by pass rate. The difficulties are now the incidental side and the gap
between agents comes out a few percent wide (simulated: 0.84 for a true 0.80; fitting the transposed counts,
fit(s.T, n.T), integrates the questions out instead and gives 0.806, with the same modes). D_q itself carries the
noise of 16 answers (sd ~0.35): the fitted modes match the true-parameter modes on ~92% of questions there.
Pooled (2 binomial rows) and unpooled (16 rows) fits give the same D to 1e-4; pooled is 10x faster.

Abilities against fixed difficulties: estimate_ability() is the posterior mode under any Gaussian prior. New
respondents (an agent measured on a validation split) use N(0, sigma^2). The cheap update during training uses the
current posterior N(gamma, var + drift^2) as the prior and adds only the new answers (a Laplace / Kalman step):
with drift = 0 a stream of batches ends close to one fit on all of them; drift > 0 forgets old evidence so gamma
can follow an agent that is learning.

The decision. choose_modes(P) gives one mode per question, shared by all agents: policy "irt" combines the agents'
P by `rule` ("mean" default; "min": cooperate if any agent is below 0.5; "max": only if all are) and cooperates
where the result is < 0.5 (exactly 0.5 competes); "cooperate" / "compete" force a mode; "ratio" cooperates on
exactly round(p * Q) (half up) of the questions passed in, drawn by a seeded generator (the paper's sweep
p = 0, 0.2, ..., 1); pass the whole training set in one call for an exact fraction over it.

Table file (JSONL, one object per line, ids as strings): a header {"kind": "rasch", "scale", "ability_sd", counts},
then {"kind": "question", "id", "difficulty"} per question and {"kind": "respondent", "id", "ability",
"ability_var"} per respondent. RaschModel.load(path, question_ids=...) refuses a table whose ids differ.

Use in ILR (our reading; the wiring lives elsewhere):
    model = fit(responses, groups=agent_of_row, question_ids=ids)   # (agents*K, train+val questions), once
    model.save("rasch.jsonl"); model = RaschModel.load("rasch.jsonl", question_ids=ids)
    modes = choose_modes(model.prob(batch_ids), rule="mean")         # one mode per batch question
    model = model.update_abilities(batch_ids, successes, trials, drift=...)  # (agents, batch) from the rollouts
Run: python bench/bench_irt.py (fit speed), pytest tests/test_irt.py.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

import numpy as np

COOPERATE, COMPETE = "cooperate", "compete"
POLICIES = ("irt", "cooperate", "compete", "ratio")
RULES = ("mean", "min", "max")
MIN_ABILITY_SD = 0.05  # floor for sigma: identical respondents would drive it to 0, a prior of zero width


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
    s = _matrix(responses, "responses" if trials is None else "successes")
    if trials is None:  # the user-facing form: 0/1, NaN = not asked
        bad = ~(np.isnan(s) | (s == 0) | (s == 1))
        if bad.any():
            r, q = np.argwhere(bad)[0]
            raise ValueError(f"responses must be 0, 1 or NaN (missing); {bad.sum()} entries are not, e.g. "
                             f"{s[r, q]!r} at row {r}, column {q}. Grade answers to 0/1 first, or pass counts "
                             f"with trials=.")
        n = (~np.isnan(s)).astype(float)
        return np.nan_to_num(s, nan=0.0), n
    n = _matrix(trials, "trials")
    if s.shape != n.shape:
        raise ValueError(f"successes {s.shape} and trials {n.shape} must have the same (respondents, questions) shape")
    for name, m in (("successes", s), ("trials", n)):
        if not np.isfinite(m).all():
            raise ValueError(f"{name} contains NaN or inf; with counts, a missing answer is trials = 0")
        if (m < 0).any() or (m != np.round(m)).any():
            raise ValueError(f"{name} must be non-negative whole numbers")
    if (s > n).any():
        r, q = np.argwhere(s > n)[0]
        raise ValueError(f"successes exceed trials at row {r}, column {q} ({s[r, q]:g} > {n[r, q]:g})")
    return s, n


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


def prob(ability, difficulty, scale: float = 1.7) -> np.ndarray:
    """P[i, q] = sigmoid(scale * (ability[i] - difficulty[q])): (A,), (Q,) -> (A, Q)."""
    g, d = _vector(ability, "ability"), _vector(difficulty, "difficulty")
    return _sigmoid(scale * (g[:, None] - d[None, :]))


def to_counts(responses, groups=None):
    """0/1 responses (NaN = missing) -> (successes, trials, labels), one row per response row or per group.

    groups: None, or one label per row (e.g. the agent that wrote each sample); rows sharing a label are summed, so
    an agent's K samples become one binomial row with up to K trials. labels: groups in order of first appearance.
    """
    s, n = _counts(responses)
    return _pool(s, n, groups)


def _pool(s, n, groups):
    if groups is None:
        return s, n, [str(r) for r in range(s.shape[0])]
    groups = [str(g) for g in groups]
    if len(groups) != s.shape[0]:
        raise ValueError(f"groups has {len(groups)} labels but the responses have {s.shape[0]} rows")
    labels = list(dict.fromkeys(groups))
    row_to_group = np.array([labels.index(g) for g in groups])  # (R,)
    S, N = np.zeros((len(labels), s.shape[1])), np.zeros((len(labels), s.shape[1]))
    np.add.at(S, row_to_group, s)
    np.add.at(N, row_to_group, n)
    return S, N, labels


def _ability_mode(d, s, n, m, v, a, g, max_iter=100):
    """Newton for the posterior mode of each gamma under N(m, v), from g. Returns (mode, 1 / curvature): (R,) each."""
    for _ in range(max_iter):
        p = _sigmoid(a * (g[:, None] - d[None, :]))                   # (R, Q)
        grad = a * (s - n * p).sum(1) - (g - m) / v                    # d log posterior / d gamma
        curv = a * a * (n * p * (1 - p)).sum(1) + 1.0 / v              # minus the second derivative, > 0
        step = np.clip(grad / curv, -1.0, 1.0)  # clipped: far from the mode sigmoid saturates and Newton overshoots
        g = g + step
        if np.abs(step).max() < 1e-9:
            break
    p = _sigmoid(a * (g[:, None] - d[None, :]))
    return g, 1.0 / (a * a * (n * p * (1 - p)).sum(1) + 1.0 / v)


def estimate_ability(difficulty, responses, trials=None, *, prior_mean=0.0, prior_var=1.0, scale: float = 1.7):
    """Abilities against FIXED difficulties: posterior mode under N(prior_mean, prior_var), Newton per respondent.

    difficulty (Q,); responses (R, Q) 0/1/NaN, or successes with trials; prior_mean, prior_var scalars or (R,).
    Returns (ability, var), both (R,); var = 1 / curvature at the mode. A row with no answers returns its prior.
    """
    d = _vector(difficulty, "difficulty")
    s, n = _counts(responses, trials)
    if s.shape[1] != d.size:
        raise ValueError(f"responses have {s.shape[1]} questions but difficulty has {d.size}")
    R = s.shape[0]
    m = np.broadcast_to(np.asarray(prior_mean, dtype=float), (R,)).copy()
    v = np.broadcast_to(np.asarray(prior_var, dtype=float), (R,)).copy()
    if not (np.isfinite(m).all() and np.isfinite(v).all() and (v > 0).all()):
        raise ValueError("prior_mean must be finite and prior_var finite and > 0")
    return _ability_mode(d, s, n, m, v, float(scale), m.copy())


@dataclass
class RaschModel:
    question_ids: list[str]   # (Q,)
    difficulty: np.ndarray    # (Q,) D_q
    respondent_ids: list[str]  # (R,) in ILR: one per agent
    ability: np.ndarray       # (R,) gamma_i, posterior mode
    ability_var: np.ndarray   # (R,) its posterior variance: the prior of the next cheap update
    ability_sd: float         # sigma, the fitted spread of abilities: prior N(0, sigma^2) for new respondents
    scale: float = 1.7
    n_iter: int = 0
    converged: bool = True
    _index: dict = field(init=False, repr=False, compare=False)

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

    def difficulty_of(self, question_ids) -> np.ndarray:
        """Difficulties of the given question ids, in that order: (len(question_ids),)."""
        ids = [str(q) for q in question_ids]
        unknown = [q for q in ids if q not in self._index]
        if unknown:
            raise KeyError(f"{len(unknown)} question ids are not in the Rasch table, e.g. {unknown[0]!r}; "
                           f"refit on responses that include them")
        return self.difficulty[[self._index[q] for q in ids]]

    def prob(self, question_ids=None) -> np.ndarray:
        """P(q, i) of every respondent (agent) on the given questions (default: all): (R, Q)."""
        d = self.difficulty if question_ids is None else self.difficulty_of(question_ids)
        return prob(self.ability, d, self.scale)

    def update_abilities(self, question_ids, responses, trials=None, drift: float = 0.0) -> "RaschModel":
        """Cheap update from new answers (rows = self.respondent_ids), difficulties fixed; returns a new model.

        Prior = current posterior N(ability, ability_var + drift^2); drift > 0 lets the estimate follow a changing
        ability (a random-walk step per call). Cost: O(R x new questions).
        """
        if drift < 0:
            raise ValueError(f"drift must be >= 0, got {drift}")
        s, n = _counts(responses, trials)
        if s.shape[0] != len(self.respondent_ids):
            raise ValueError(f"update has {s.shape[0]} rows but the model has {len(self.respondent_ids)} "
                             f"respondents {self.respondent_ids}; pool samples per agent with to_counts(.., groups)")
        g, v = estimate_ability(self.difficulty_of(question_ids), s, n, prior_mean=self.ability,
                                prior_var=self.ability_var + drift ** 2, scale=self.scale)
        return replace(self, ability=g, ability_var=v)

    def save(self, path) -> None:
        with open(path, "w") as f:
            f.write(json.dumps({"kind": "rasch", "scale": self.scale, "ability_sd": self.ability_sd,
                                "n_questions": len(self.question_ids), "n_respondents": len(self.respondent_ids),
                                "n_iter": self.n_iter, "converged": self.converged}) + "\n")
            for q, d in zip(self.question_ids, self.difficulty.tolist()):
                f.write(json.dumps({"kind": "question", "id": q, "difficulty": d}) + "\n")
            for r, g, v in zip(self.respondent_ids, self.ability.tolist(), self.ability_var.tolist()):
                f.write(json.dumps({"kind": "respondent", "id": r, "ability": g, "ability_var": v}) + "\n")

    @classmethod
    def load(cls, path, question_ids=None, allow_extra: bool = False) -> "RaschModel":
        """Read a table written by save(). question_ids: the data set's ids; the table must hold exactly these
        (or a superset with allow_extra=True, e.g. a train + validation table used on the train split)."""
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
        qs = [r for r in rows[1:] if r.get("kind") == "question"]
        rs = [r for r in rows[1:] if r.get("kind") == "respondent"]
        if len(qs) != head.get("n_questions") or len(rs) != head.get("n_respondents"):
            raise ValueError(f"{path} holds {len(qs)} questions and {len(rs)} respondents but its header says "
                             f"{head['n_questions']} and {head['n_respondents']}: truncated or edited file")
        try:
            model = cls([r["id"] for r in qs], [r["difficulty"] for r in qs], [r["id"] for r in rs],
                        [r["ability"] for r in rs], [r["ability_var"] for r in rs], float(head["ability_sd"]),
                        float(head["scale"]), int(head.get("n_iter", 0)), bool(head.get("converged", True)))
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


def fit(responses, trials=None, *, groups=None, question_ids=None, respondent_ids=None, scale: float = 1.7,
        difficulty_prior_sd: float = 3.0, n_nodes: int = 11, tol: float = 1e-4, max_iter: int = 500) -> RaschModel:
    """Fit difficulties and abilities on one scale by marginal MAP / EM (see the module docstring).

    responses: (R, Q) 0/1 with NaN = missing; or success counts with trials (R, Q). groups: one label per row to
    pool rows into respondents (an agent's K samples); the respondent ids are then the labels. question_ids,
    respondent_ids: default "0", "1", ... Stops when no difficulty nor sigma moves by tol in an iteration;
    model.converged says whether that happened within max_iter. Memory: a few (R, n_nodes, Q) float64 arrays.
    """
    s, n = _counts(responses, trials)
    if groups is not None:
        if respondent_ids is not None:
            raise ValueError("pass groups or respondent_ids, not both: with groups the labels are the respondent ids")
        s, n, respondent_ids = _pool(s, n, groups)
    R, Q = s.shape
    question_ids, respondent_ids = _ids(question_ids, Q, "question_ids"), _ids(respondent_ids, R, "respondent_ids")
    for axis, name, ids in ((1, "respondent", respondent_ids), (0, "question", question_ids)):
        empty = np.flatnonzero(n.sum(axis) == 0)
        if empty.size:
            raise ValueError(f"{empty.size} {name}(s) with no observed answers, e.g. {name} {ids[empty[0]]!r}; "
                             f"drop them (nothing can be learned about them) or collect their answers")
    if not (scale > 0 and difficulty_prior_sd > 0 and n_nodes >= 3):
        raise ValueError("need scale > 0, difficulty_prior_sd > 0 and n_nodes >= 3")
    a, tau2 = float(scale), float(difficulty_prior_sd) ** 2
    z, zw = np.polynomial.hermite_e.hermegauss(n_nodes)  # (K,): sum_k zw_k f(z_k) ~ integral of f(z) exp(-z^2/2)
    log_zw = np.log(zw) + 0.5 * z ** 2                   # (K,) so that nodes weigh by the target, not by N(0, 1)
    rate = (s.sum(0) + 0.5) / (n.sum(0) + 1.0)
    d = -np.log(rate / (1 - rate)) / a                    # (Q,) start: everyone at ability 0
    g, sigma, converged, it = np.zeros(R), 1.0, False, 0
    for it in range(1, max_iter + 1):
        # E-step, adaptive quadrature: each respondent's nodes sit on its own posterior (mode g, sd sqrt(v)).
        g, v = _ability_mode(d, s, n, 0.0, sigma ** 2, a, g)
        theta = g[:, None] + np.sqrt(v)[:, None] * z[None, :]                      # (R, K)
        x = a * (theta[:, :, None] - d[None, None, :])                             # (R, K, Q)
        loglik = (s[:, None, :] * _log_sigmoid(x) + (n - s)[:, None, :] * _log_sigmoid(-x)).sum(-1)  # (R, K)
        w = loglik - 0.5 * theta ** 2 / sigma ** 2 + log_zw                        # log posterior x node weight
        w = np.exp(w - w.max(1, keepdims=True))
        w /= w.sum(1, keepdims=True)                                               # (R, K) sums to 1 per row
        # M-step: Newton steps per D_q on E[log lik] - (D_q - Dbar)^2 / (2 tau^2) (generalised EM: uphill is enough)
        d_old = d
        for _ in range(3):
            p = _sigmoid(a * (theta[:, :, None] - d[None, None, :]))              # (R, K, Q)
            ep = np.einsum("rk,rkq->rq", w, p)                                     # (R, Q) posterior mean of P
            epq = np.einsum("rk,rkq->rq", w, p * (1 - p))
            grad = a * (n * ep - s).sum(0) - (d - d.mean()) / tau2                 # (Q,)
            curv = a * a * (n * epq).sum(0) + 1.0 / tau2
            d = d + np.clip(grad / curv, -1.0, 1.0)
        # Location: shift everything so the mean ability is 0 (the likelihood cannot see a common shift; without
        # this, EM drifts there only slowly when abilities are sharp: a parameter-expansion step, PX-EM).
        mean_theta = (w * theta).sum(1)                                            # (R,) posterior means
        shift = mean_theta.mean()
        d, g = d - shift, g - shift
        sigma_new = max(math.sqrt(float((w * (theta - shift) ** 2).sum(1).mean())), MIN_ABILITY_SD)
        change = max(np.abs(d - d_old).max(), abs(sigma_new - sigma))
        sigma = sigma_new
        if change < tol:
            converged = True
            break
    g, v = _ability_mode(d, s, n, 0.0, sigma ** 2, a, g)
    return RaschModel(question_ids, d, respondent_ids, g, v, sigma, a, it, converged)


def choose_modes(p, policy: str = "irt", rule: str = "mean", ratio: float | None = None, seed: int = 0) -> list[str]:
    """One mode per question, shared by all agents: a list of "cooperate" / "compete" of length Q.

    p: (A, Q) P(q, i) of each agent on each question (model.prob(question_ids)); a 1-D p is one agent.
    policy "irt": combine the agents' P by rule ("mean", "min", "max"), cooperate where the result < 0.5.
    "cooperate" / "compete": forced. "ratio": exactly round(ratio * Q) questions cooperate, chosen by a generator
    seeded with seed (p only gives Q); same seed, same modes.
    """
    p = np.asarray(p, dtype=float)
    p = p[None, :] if p.ndim == 1 else p
    if p.ndim != 2 or p.size == 0 or not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"p must be a non-empty (agents, questions) matrix of probabilities in [0, 1], "
                         f"got shape {p.shape}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if (policy == "ratio") != (ratio is not None):
        raise ValueError("ratio is given exactly when policy='ratio'")
    Q = p.shape[1]
    if policy == "irt":
        combined = {"mean": p.mean(0), "min": p.min(0), "max": p.max(0)}[rule]  # (Q,)
        cooperate = combined < 0.5
    elif policy == "ratio":
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio must be in [0, 1], got {ratio}")
        cooperate = np.zeros(Q, dtype=bool)
        cooperate[np.random.default_rng(seed).permutation(Q)[: int(math.floor(ratio * Q + 0.5))]] = True
    else:
        cooperate = np.full(Q, policy == "cooperate")
    return [COOPERATE if c else COMPETE for c in cooperate]
