#!/usr/bin/env python3
"""How many friendship rows a partition of the Spark job's partitioned mode needs, today and
if every node's degree came from a table (spark/README.md, "Where the time goes now").

    python3 scripts/partition_edges.py WORLD_DIR 2 4 8 16

For N partitions (viewers split by the job's FNV-1a 64-bit hash of the user id, mod N), takes
partition 0's viewers V and their friends F, and prints the fractions of the friendships that
touch V; that touch V or have both ends in one viewer's neighbourhood (what embeddedness,
dispersion and Adamic-Adar count, given degrees from a table); and that touch V or F (a lower
bound on what the partition holds today, which also keeps the candidates' authors' rows).
Reads `users.tsv` and `friendships.tsv` (TSV, not gzip). Pure Python: about a minute for
100,000 users.
"""
import sys


def fnv1a_64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    world, ns = sys.argv[1], [int(x) for x in sys.argv[2:]]
    with open(f"{world}/users.tsv", encoding="utf-8") as f:
        next(f)
        users = [line.split("\t")[0].rstrip("\n") for line in f if line.strip()]
    index = {u: i for i, u in enumerate(users)}
    neighbours = [set() for _ in users]
    edges = []
    with open(f"{world}/friendships.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            a, b = line.rstrip("\n").split("\t")[:2]
            a, b = index[a], index[b]
            if a != b and b not in neighbours[a]:
                neighbours[a].add(b)
                neighbours[b].add(a)
                edges.append((a, b))
    hashes = [fnv1a_64(u) for u in users]
    for n in ns:
        viewer = [h % n == 0 for h in hashes]
        friends = set()
        for v, is_viewer in enumerate(viewer):
            if is_viewer:
                friends |= neighbours[v]
        touching = inside = near = 0
        for a, b in edges:
            if viewer[a] or viewer[b]:
                touching += 1
                near += 1
                continue
            small, large = sorted((neighbours[a], neighbours[b]), key=len)
            if any(viewer[w] for w in small if w in large):
                inside += 1
            if a in friends or b in friends:
                near += 1
        m = len(edges)
        print(
            f"N={n}: {m} friendships; touching V {touching / m:.3f}; touching V or inside a "
            f"viewer's neighbourhood {(touching + inside) / m:.3f}; touching V or F {near / m:.3f}; "
            f"|F| / users {len(friends) / len(users):.3f}"
        )


if __name__ == "__main__":
    main()
