#!/usr/bin/env python3
"""Time the Python `implicit` library's CPU ALS on the matrix written by
`feedrank bench als --write-matrix FILE`, for the README comparison.

    pip install implicit numpy scipy
    OPENBLAS_NUM_THREADS=1 python3 scripts/bench_implicit.py FILE --factors 64 --iterations 5 --threads N

Prints the median seconds per iteration (wall and process CPU). Note: `implicit` uses the
counts times alpha directly as the confidence (feedrank uses 1 + alpha * count); the work per
iteration is the same (3 CG steps per row, Y^T Y precomputed).
"""
import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("matrix", help="row<TAB>col<TAB>count lines")
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="0 = all cores")
    ap.add_argument("--alpha", type=float, default=40.0)
    ap.add_argument("--regularization", type=float, default=0.1)
    args = ap.parse_args()

    import implicit
    from implicit.cpu.als import AlternatingLeastSquares

    t = np.loadtxt(args.matrix, delimiter="\t", dtype=np.float64, ndmin=2)
    rows, cols, counts = t[:, 0].astype(np.int64), t[:, 1].astype(np.int64), t[:, 2].astype(np.float32)
    user_items = sp.csr_matrix((counts, (rows, cols)), shape=(rows.max() + 1, cols.max() + 1))
    model = AlternatingLeastSquares(
        factors=args.factors,
        iterations=args.iterations,
        regularization=args.regularization,
        alpha=args.alpha,
        use_cg=True,
        calculate_training_loss=False,
        num_threads=args.threads,
        random_state=42,
    )
    wall, cpu = [], []
    last = {"w": time.perf_counter(), "c": time.process_time()}

    def callback(iteration, elapsed, loss):
        w, c = time.perf_counter(), time.process_time()
        wall.append(w - last["w"])
        cpu.append(c - last["c"])
        last["w"], last["c"] = w, c
        print(f"iteration {iteration + 1}: wall {wall[-1]:.3f}s cpu {cpu[-1]:.3f}s", flush=True)

    last["w"], last["c"] = time.perf_counter(), time.process_time()
    model.fit(user_items, show_progress=False, callback=callback)
    # The first interval also includes fit()'s set-up (alpha scaling, transpose, init); the
    # median over the iterations is what the README reports.
    print(
        f"implicit {implicit.__version__} ALS: {user_items.shape[0]} x {user_items.shape[1]} "
        f"nnz {user_items.nnz} factors {args.factors} cg_steps {model.cg_steps} threads {args.threads or 'all'}: "
        f"median s/iteration wall {statistics.median(wall):.3f} cpu {statistics.median(cpu):.3f} "
        f"(over {len(wall)} iterations)"
    )


if __name__ == "__main__":
    main()
