"""Converts a TSV world directory into a Parquet world that spark/feeds.py reads.

    spark-submit --master 'local[2]' spark/to_parquet.py --world DIR --out PARQUET_DIR

Each table `name.tsv[.gz]` becomes the Parquet directory `name/` with the same columns (ids and
text as strings, `created_at`, `ts` and `since` as 64-bit integers, an empty field as null);
`world.toml` is copied as a file. `users` and `stories` are written as one file each so that a
reader sees their rows in the source order (dense ids follow it).
"""

import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import feeds  # noqa: E402  (the table reader shared with the job)

INTEGER_COLUMNS = ("created_at", "ts", "since")
ORDERED_TABLES = ("users", "stories")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="to_parquet.py", description="A TSV world as Parquet tables.")
    p.add_argument("--world", required=True, help="TSV world directory")
    p.add_argument(
        "--out", required=True, help="Parquet world directory to create (must not exist)"
    )
    args = p.parse_args(argv)
    if not os.path.isdir(args.world):
        p.error(f"--world {args.world}: no such directory")
    if os.path.exists(args.out):
        p.error(f"--out {args.out}: already exists")
    return args


def typed(df):
    from pyspark.sql import functions as F

    return df.select(
        [F.col(c).cast("long").alias(c) if c in INTEGER_COLUMNS else F.col(c) for c in df.columns]
    )


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("feedrank world to parquet").getOrCreate()
    if feeds.detect_format(args.world) != "tsv":
        raise feeds.UsageError(f"{args.world}: not a TSV world")
    os.makedirs(args.out)
    shutil.copyfile(os.path.join(args.world, "world.toml"), os.path.join(args.out, "world.toml"))
    for name in feeds.TABLES:
        path = feeds.table_path(args.world, "tsv", name)
        if path is None:
            continue
        df = typed(feeds.read_tsv(spark, path))
        if name in ORDERED_TABLES:
            df = df.coalesce(1)
        df.write.parquet(os.path.join(args.out, name))
        print(f"to_parquet.py: {name}: {path} -> {os.path.join(args.out, name)}", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except feeds.UsageError as e:
        print(f"to_parquet.py: error: {e}", file=sys.stderr)
        sys.exit(2)
