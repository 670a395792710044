"""experiments: what is run with the method, on the top floor. They import train.py, evaluate.py and the method;
nothing below imports them.

    python -m experiments.warmstart    build the tiny world's models (supervised: solving, then discussing)
    python -m experiments.miniature    the paper's tables in miniature (ILR, its ablations, GRPO; a few seeds)
    python -m experiments.talking      does talking teach? ILR against GRPO, paired by seed, in two tiny worlds
"""
