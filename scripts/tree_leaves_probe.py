#!/usr/bin/env python3
"""Boosted-tree leaves as features of the logistic heads (He et al., "Practical Lessons from
Predicting Clicks on Ads at Facebook", ADKDD 2014), measured outside feedrank before building
it in: per head, the test AUC of

  - a logistic regression on feedrank's standardised rows (what a head fits, without the MF
    columns and per-viewer offsets, which neither variant gets);
  - gradient-boosted trees alone (LightGBM; TREES trees of LEAVES leaves, and 300 of 15);
  - the logistic regression on the rows plus every tree's leaf as one-hot indicators.

Input: the files of `cargo run --release --example dump_rows -- WORLD SPLIT OUT`.
Needs numpy, scipy, scikit-learn and lightgbm (pip). Not part of the build or the tests: a
measurement tool (docs/quality-levers.md, step 7).

With "pairs" instead (scripts/tree_leaves_probe.py OUT pairs): the logistic regression on the
rows against the same on the rows plus the product of every feature with each story-kind
indicator (`kind_1..kind_3`: the "tie strength x story kind" interactions a linear model
misses), both at C = 1.

Usage: scripts/tree_leaves_probe.py OUT [TREES [LEAVES [quick]]] | OUT pairs
("quick": no 300-tree model, and each logistic regression at the inverse L2 that won on seed 7,
C = 1 without the leaves and C = 0.01 with them, instead of the best of 0.01, 0.1 and 1.)
"""
import sys
import time

import lightgbm as lgb
import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import OneHotEncoder

HEADS = ["click", "like", "comment", "share", "hide"]


def load(d, name, width):
    x = np.fromfile(f"{d}/{name}.x", dtype=np.float32).reshape(-1, width)
    y = np.fromfile(f"{d}/{name}.y", dtype=np.uint8)
    if len(x) != len(y):
        sys.exit(f"{d}/{name}: {len(x)} rows of features but {len(y)} labels")
    return x, y


def best_lr(xtr, y, xte, yt, grid):
    """Highest test AUC over the inverse-L2 grid (generous to both variants alike)."""
    best = (0.0, None)
    for c in grid:
        m = LogisticRegression(C=c, max_iter=500).fit(xtr, y)
        best = max(best, (roc_auc_score(yt, m.decision_function(xte)), c), key=lambda t: t[0])
    return best


def pairs(d):
    width = len(open(f"{d}/names.txt").read().split())
    xtr, ytr = load(d, "train", width)
    xte, yte = load(d, "test", width)
    names = open(f"{d}/names.txt").read().split()
    kinds = [j for j, n in enumerate(names) if n.startswith("kind_")]
    others = [j for j in range(width) if j not in kinds]

    def products(x):
        cols = [x[:, [j]] * x[:, [k]] for k in kinds for j in others]
        return np.hstack([x] + cols).astype(np.float32)

    ptr, pte = products(xtr), products(xte)
    extra = ptr.shape[1] - width
    print(f"{len(xtr)} training rows, {len(xte)} test rows, {width} features + {extra} products")
    print("head      positives  LR      LR+products")
    for k, h in enumerate(HEADS):
        y, yt = (ytr >> k) & 1, (yte >> k) & 1
        t = time.time()
        a_lr, _ = best_lr(xtr, y, xte, yt, [1.0])
        a_p, c = best_lr(ptr, y, pte, yt, [1.0])
        print(f"{h:8s} {int(y.sum()):10d}  {a_lr:.4f}  {a_p:.4f} (C={c})  {time.time() - t:.0f} s", flush=True)


def main():
    d = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "pairs":
        pairs(d)
        return
    trees = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    leaves = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    quick = len(sys.argv) > 4 and sys.argv[4] == "quick"
    width = len(open(f"{d}/names.txt").read().split())
    xtr, ytr = load(d, "train", width)
    xte, yte = load(d, "test", width)
    print(f"{len(xtr)} training rows, {len(xte)} test rows, {width} features")
    grid = [0.01, 0.1, 1.0]
    grid_lr, grid_leaves = ([1.0], [0.01]) if quick else (grid, grid)
    print("head      positives  LR      trees   trees300x15  LR+leaves")
    for k, h in enumerate(HEADS):
        y, yt = (ytr >> k) & 1, (yte >> k) & 1
        t = time.time()
        a_lr, _ = best_lr(xtr, y, xte, yt, grid_lr)
        common = dict(min_child_samples=200, verbose=-1, deterministic=True, num_threads=1)
        g = lgb.LGBMClassifier(n_estimators=trees, num_leaves=leaves, learning_rate=0.1, **common)
        g.fit(xtr, y)
        a_g = roc_auc_score(yt, g.predict_proba(xte)[:, 1])
        a_g2 = float("nan")
        if not quick:
            g2 = lgb.LGBMClassifier(n_estimators=300, num_leaves=15, learning_rate=0.05, **common)
            g2.fit(xtr, y)
            a_g2 = roc_auc_score(yt, g2.predict_proba(xte)[:, 1])
        enc = OneHotEncoder(handle_unknown="ignore")
        ltr = enc.fit_transform(g.predict(xtr, pred_leaf=True))
        lte = enc.transform(g.predict(xte, pred_leaf=True))
        xa = hstack([csr_matrix(xtr), ltr]).tocsr()
        xb = hstack([csr_matrix(xte), lte]).tocsr()
        a_leaf, c = best_lr(xa, y, xb, yt, grid_leaves)
        print(
            f"{h:8s} {int(y.sum()):10d}  {a_lr:.4f}  {a_g:.4f}  {a_g2:.4f}       "
            f"{a_leaf:.4f} (C={c})  {time.time() - t:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
