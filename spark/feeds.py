"""Every user's feed on Apache Spark, byte-identical to `feedrank generate`.

Run with spark-submit (see spark/README.md):

    spark-submit --master 'local[2]' spark/feeds.py --world DIR --model FILE --out OUT \
        --partitions N [--mode partitioned|shard] [--as-of T] [--k K] [--bin PATH]

Python only moves data and runs the feedrank binary: every feature, aggregate and ranking
rule is computed by the binary. Two modes:

* shard: task i runs `feedrank generate --shard i/N` over the whole world.
* partitioned (default): DataFrame joins build each partition's own small world directory
  (its viewers, the edges, events and interactions they need, the candidate stories'
  aggregates summed from `feedrank aggregates` over slices of the event log), and task i runs
  `feedrank generate` on it.

Output: OUT/feeds/ (JSONL part files), OUT/feeds.parquet/ (one row per feed item),
OUT/_metrics.json, and OUT/_SUCCESS written last.

Training beyond one machine: `--sample-viewers F --write-inputs DIR` writes instead the
training input of a sample of viewers, the world directory `feedrank partition --training`
writes (the same rows), which `feedrank train --world DIR` trains on one machine:

    spark-submit --master 'local[2]' spark/feeds.py --world DIR --sample-viewers 0.1 \
        --write-inputs INPUT [--as-of T] [--config FILE] [--partitions N]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

TABLES = ("users", "friendships", "stories", "events", "interactions")
REQUIRED_TABLES = ("friendships", "stories", "events")
# Integer columns that must be compared as numbers (everything else stays a string, so the
# partition worlds repeat the source's bytes).
TIME_COLUMNS = {"stories": "created_at", "events": "ts"}
FAIL_ONCE_ENV = "FEEDRANK_SPARK_FAIL_ONCE"
FAIL_ALWAYS_ENV = "FEEDRANK_SPARK_FAIL_ALWAYS"
SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))


class UsageError(Exception):
    """A bad argument or input, reported without a traceback."""


class FeedrankTaskError(RuntimeError):
    """A feedrank process failed (or a failure was injected) inside a Spark task."""


# ---------------------------------------------------------------------------------------
# Arguments


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="feeds.py",
        description="Every user's feed on Spark, identical to `feedrank generate`.",
    )
    p.add_argument(
        "--world", required=True, help="world directory: TSV(.gz) tables or Parquet tables"
    )
    p.add_argument("--model", help="trained model file (feedrank train)")
    p.add_argument("--out", help="output directory (must not exist or be empty)")
    p.add_argument(
        "--partitions",
        type=positive_int,
        help="number of partitions / shards N (with --write-inputs: event slices, default: "
        "Spark's parallelism)",
    )
    p.add_argument(
        "--sample-viewers",
        type=fraction,
        help="with --write-inputs: the fraction of viewers in the training sample, in (0, 1]",
    )
    p.add_argument(
        "--write-inputs",
        help="write the training input of the --sample-viewers sample to this directory "
        "(for `feedrank train --world DIR`) instead of ranking",
    )
    p.add_argument("--mode", choices=("partitioned", "shard"), default="partitioned")
    p.add_argument("--as-of", type=int, help="ranking time, unix seconds (default: last event + 1)")
    p.add_argument("--k", type=positive_int, help="feed length (default: feedrank's)")
    p.add_argument("--config", help="feedrank TOML configuration, passed to every feedrank command")
    p.add_argument(
        "--bin",
        default=os.path.join(SCRIPT_DIR, "..", "target", "release", "feedrank"),
        help="feedrank binary (default: the repo's target/release/feedrank)",
    )
    args = p.parse_args(argv)
    check_args(p, args)
    return args


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {value}")
    return value


def fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], found {text!r}")
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], found {value}")
    return value


def check_args(parser, args):
    args.bin = os.path.abspath(args.bin)
    if not os.access(args.bin, os.X_OK):
        parser.error(
            f"--bin {args.bin}: no executable feedrank binary there (cargo build --release)"
        )
    if args.config and not os.path.isfile(args.config):
        parser.error(f"--config {args.config}: no such file")
    if not os.path.isdir(args.world):
        parser.error(f"--world {args.world}: no such directory")
    if args.write_inputs or args.sample_viewers is not None:
        if not (args.write_inputs and args.sample_viewers is not None):
            parser.error("--sample-viewers and --write-inputs go together")
        for name in ("model", "out", "k"):
            if getattr(args, name) is not None:
                parser.error(f"--{name} ranks; --write-inputs writes a training input instead")
        target = args.write_inputs
        if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
            parser.error(
                f"--write-inputs {target}: exists and is not an empty directory; remove it or "
                "choose another"
            )
        return
    for name in ("model", "out", "partitions"):
        if getattr(args, name) is None:
            parser.error(f"--{name} is required (or --sample-viewers F --write-inputs DIR)")
    if not os.path.isfile(args.model):
        parser.error(f"--model {args.model}: no such file")
    if os.path.exists(args.out) and (not os.path.isdir(args.out) or os.listdir(args.out)):
        parser.error(
            f"--out {args.out}: exists and is not an empty directory; remove it or choose another"
        )


# ---------------------------------------------------------------------------------------
# Reading a world (TSV or Parquet) into DataFrames


class World:
    """A world's tables as DataFrames of strings, each with `_row`, its source row order."""

    def __init__(self, spark, directory):
        self.dir = os.path.abspath(directory)
        self.format = detect_format(self.dir)
        toml_path = os.path.join(self.dir, "world.toml")
        if not os.path.isfile(toml_path):
            raise UsageError(f"{toml_path}: missing (every world has a world.toml)")
        with open(toml_path, encoding="utf-8") as f:
            self.toml = f.read()
        self.tables = {}
        self.columns = {}
        for name in TABLES:
            df = read_table(spark, self.dir, self.format, name)
            if df is None:
                continue
            self.columns[name] = list(df.columns)
            self.tables[name] = with_row_order(df)

    def has(self, name):
        return name in self.tables

    def df(self, name):
        return self.tables[name]

    def header(self, name):
        return "\t".join(self.columns[name])


def detect_format(directory):
    def present(name):
        return any(
            os.path.isfile(os.path.join(directory, name + ext)) for ext in (".tsv", ".tsv.gz")
        )

    if all(present(t) for t in REQUIRED_TABLES):
        return "tsv"
    if all(os.path.isdir(os.path.join(directory, t)) for t in REQUIRED_TABLES):
        return "parquet"
    raise UsageError(
        f"{directory}: not a world: expected {', '.join(t + '.tsv[.gz]' for t in REQUIRED_TABLES)} "
        f"or Parquet directories {', '.join(t + '/' for t in REQUIRED_TABLES)}"
    )


def table_path(directory, fmt, name):
    if fmt == "parquet":
        path = os.path.join(directory, name)
        return path if os.path.isdir(path) else None
    for ext in (".tsv", ".tsv.gz"):
        path = os.path.join(directory, name + ext)
        if os.path.isfile(path):
            return path
    return None


def read_table(spark, directory, fmt, name):
    from pyspark.sql import functions as F

    path = table_path(directory, fmt, name)
    if path is None:
        if name in REQUIRED_TABLES:
            raise UsageError(f"{directory}: table {name} is missing")
        return None
    if fmt == "parquet":
        df = spark.read.parquet(path)
        return df.select([F.col(c).cast("string").alias(c) for c in df.columns])
    return read_tsv(spark, path)


def read_tsv(spark, path):
    """A TSV table with a header, every column a string (an empty field is null)."""
    return (
        spark.read.option("sep", "\t")
        .option("header", True)
        .option("quote", "")  # no quoting: fields are raw tokens
        .option("inferSchema", False)
        .csv(path)
    )


def with_row_order(df):
    """Tags each row with an id increasing in source order (a single file is read in order)."""
    from pyspark.sql import functions as F

    return df.withColumn("_row", F.monotonically_increasing_id())


def tsv_line(columns):
    """The Spark column holding a row's TSV line (null fields written empty)."""
    from pyspark.sql import functions as F

    return F.concat_ws("\t", *[F.coalesce(F.col(c), F.lit("")) for c in columns])


def default_as_of(world):
    """What `feedrank generate` uses: one second after the last event (or story)."""
    from pyspark.sql import functions as F

    for name in ("events", "stories"):
        col = TIME_COLUMNS[name]
        last = world.df(name).agg(F.max(F.col(col).cast("long"))).first()[0]
        if last is not None:
            return int(last) + 1
    return 0


def world_counts(world):
    return {name: (world.df(name).count() if world.has(name) else 0) for name in TABLES}


def write_world_tsv(world, directory):
    """Writes `world` as a TSV world directory on the driver (tables in source row order)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "world.toml"), "w", encoding="utf-8") as f:
        f.write(world.toml)
    for name in TABLES:
        if not world.has(name):
            continue
        lines = world.df(name).orderBy("_row").select(tsv_line(world.columns[name]).alias("line"))
        with open(os.path.join(directory, name + ".tsv"), "w", encoding="utf-8") as f:
            f.write(world.header(name) + "\n")
            for row in lines.toLocalIterator():
                f.write(row.line + "\n")


# ---------------------------------------------------------------------------------------
# Running the feedrank binary inside a task


def local_file(name):
    """The task's copy of a file shipped with SparkContext.addFile."""
    from pyspark import SparkFiles

    return SparkFiles.get(name)


def local_binary(job):
    """The task's copy of the feedrank binary, made executable if the copy lost the bit."""
    path = local_file(job["files"]["bin"])
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


def run_feedrank(cmd, workdir, stdin_path=None, env=None):
    """Runs `cmd`, its standard output into a file in `workdir`.

    Returns (stdout path, the process's rusage). A non-zero exit raises FeedrankTaskError
    with the command, the status and the end of its stderr.
    """
    out_path = os.path.join(workdir, "stdout")
    err_path = os.path.join(workdir, "stderr")
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=err, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdin_path:
            stdin.close()
    if proc.returncode != 0:
        with open(err_path, encoding="utf-8", errors="replace") as f:
            stderr = f.read()[-4000:]
        raise FeedrankTaskError(
            f"feedrank exited with status {proc.returncode}: {' '.join(cmd)}\n--- its stderr ---\n{stderr}"
        )
    return out_path, usage


def inject_faults(index, faults):
    """Raises in partition `index` when the job was started with a fault injected there."""
    if faults.get("always") == index:
        raise FeedrankTaskError(
            f"injected failure in partition {index} ({FAIL_ALWAYS_ENV}={index})"
        )
    if faults.get("once") == index:
        marker = os.path.join(faults["marker_dir"], f"failed-{index}")
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise FeedrankTaskError(
                f"injected failure in partition {index} ({FAIL_ONCE_ENV}={index}), first attempt only"
            )


def fault_settings():
    """Reads the fault-injection variables on the driver (tasks get them in their closure)."""
    faults = {}
    for key, env in (("once", FAIL_ONCE_ENV), ("always", FAIL_ALWAYS_ENV)):
        value = os.environ.get(env)
        if value:
            try:
                faults[key] = int(value)
            except ValueError:
                raise UsageError(f"{env}={value!r}: expected a partition index")
    if "once" in faults:
        faults["marker_dir"] = tempfile.mkdtemp(prefix="feedrank-spark-faults-")
    return faults


def task_metrics(index, rows, started, cpu_started, usage):
    """One partition's metrics: input rows, task wall and CPU seconds, feedrank's peak memory."""
    child_cpu = (usage.ru_utime + usage.ru_stime) if usage else 0.0
    metrics = {"partition": index}
    metrics.update(rows)
    metrics["wall_s"] = round(time.time() - started, 3)
    metrics["cpu_s"] = round(time.process_time() - cpu_started + child_cpu, 3)
    metrics["peak_mib"] = round(usage.ru_maxrss / 1024.0, 1) if usage else 0.0
    return metrics


def yield_lines(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield ("feed", line.rstrip("\n"))


def generate_flags(job):
    """The `feedrank generate` flags every task shares (paths resolved inside the task)."""
    flags = [
        "--model",
        local_file(job["files"]["model"]),
        "--as-of",
        str(job["as_of"]),
        "--out",
        "-",
    ]
    if job["k"]:
        flags += ["--k", str(job["k"])]
    if job["config"]:
        flags += ["--config", local_file(job["files"]["config"])]
    return flags


# ---------------------------------------------------------------------------------------
# Shard mode


def shard_task(job):
    """Task i of N: `feedrank generate --shard i/N` over the whole world."""

    def run(index, _ignored):
        started, cpu_started = time.time(), time.process_time()
        inject_faults(index, job["faults"])
        workdir = tempfile.mkdtemp(prefix=f"feedrank-shard-{index}-")
        try:
            cmd = [local_binary(job), "generate", "--world", job["world"]]
            cmd += ["--shard", f"{index}/{job['n']}"] + generate_flags(job)
            out_path, usage = run_feedrank(cmd, workdir)
            viewers = 0
            for item in yield_lines(out_path):
                viewers += 1
                yield item
            totals = job["totals"]
            rows = {"viewers": viewers}
            rows.update(
                (t, totals[t]) for t in ("friendships", "stories", "events", "interactions")
            )
            yield ("metrics", json.dumps(task_metrics(index, rows, started, cpu_started, usage)))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    return run


def shard_results(sc, world, job, tmp):
    """Shard mode: the (kind, text) records of every task."""
    if world.format == "parquet":
        # The binary reads TSV: the driver writes a local copy (on a cluster, put it where
        # every worker can read it).
        copy = os.path.join(tmp, "world-tsv")
        write_world_tsv(world, copy)
        job["world"] = copy
    else:
        job["world"] = world.dir
    n = job["n"]
    return sc.parallelize(range(n), n).mapPartitionsWithIndex(shard_task(job))


# ---------------------------------------------------------------------------------------
# Partitioned mode: per-partition inputs built with DataFrame joins


def fnv1a_64(text):
    """FNV-1a 64-bit of the UTF-8 bytes: the shard hash of `feedrank generate --shard`."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def partition_spec(binary, as_of, model, config):
    cmd = [binary, "partition-spec", "--as-of", str(as_of)]
    if model:
        cmd += ["--model", model]
    if config:
        cmd += ["--config", config]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise UsageError(f"{' '.join(cmd)} failed (status {result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout)


AGGREGATES_COLUMNS = ["story_id", "exposures", "rate_exposures", "rate_positives"]


def aggregates_columns(times):
    """The columns `feedrank aggregates --as-of T1,T2,...` prints (`as_of` first for several)."""
    return (["as_of"] if len(times) > 1 else []) + AGGREGATES_COLUMNS


def aggregates_task(job, header, slices_dir, out_dir):
    """Slice i of the events (every event of its users, staged by the JVM): `feedrank
    aggregates` on it, its output written to OUT_DIR/slice-i.tsv for the JVM to read."""

    def run(index, _ignored):
        workdir = tempfile.mkdtemp(prefix=f"feedrank-aggregates-{index}-")
        try:
            events = os.path.join(workdir, "events.tsv")
            sources = [
                p
                for p in staged_parts(slices_dir)
                if os.path.basename(p).startswith(f"part-{index:05d}-")
            ]
            if concatenate(events, header, sources) == 0:
                return
            times = job["aggregate_times"]
            cmd = [local_binary(job), "aggregates", "--as-of", ",".join(map(str, times))]
            cmd += ["--events", "-"]
            if job["files"]["model"]:
                cmd += ["--model", local_file(job["files"]["model"])]
            elif job["files"]["config"]:
                cmd += ["--config", local_file(job["files"]["config"])]
            out_path, _ = run_feedrank(cmd, workdir, stdin_path=events)
            with open(out_path, encoding="utf-8") as f:
                found = f.readline().rstrip("\n").split("\t")
            if found != aggregates_columns(times):
                raise FeedrankTaskError(
                    f"feedrank aggregates: header {found}, expected {aggregates_columns(times)}"
                )
            # Copy, then rename: a retried or speculative attempt replaces the file whole.
            partial = os.path.join(out_dir, f".slice-{index}.{os.getpid()}.tmp")
            shutil.copyfile(out_path, partial)
            os.replace(partial, os.path.join(out_dir, f"slice-{index}.tsv"))
            yield index
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    return run


def aggregate_sums(spark, world, job, staging):
    """Per-story exposures and per-author rate counts at each time of
    job["aggregate_times"] (column `as_of`), summed over slices of the event log.

    The JVM writes the slices (events repartitioned by user, source order within a slice) to
    STAGING/event_slices; task i pipes slice i to `feedrank aggregates` and writes its output to
    STAGING/aggregates/slice-i.tsv, which the JVM reads back and sums: no event row goes
    through Python."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    n = job["n"]
    slices_dir = os.path.join(staging, "event_slices")
    out_dir = os.path.join(staging, "aggregates")
    os.makedirs(out_dir, exist_ok=True)
    (
        world.df("events")
        .select("user_id", "_row", tsv_line(world.columns["events"]).alias("line"))
        .repartition(n, "user_id")
        .sortWithinPartitions("_row")
        .select("line")
        .write.text(slices_dir)
    )
    task = aggregates_task(job, world.header("events"), slices_dir, out_dir)
    spark.sparkContext.parallelize(range(n), n).mapPartitionsWithIndex(task).collect()
    times = job["aggregate_times"]
    schema = StructType(
        [StructField("as_of", LongType())] * (len(times) > 1)
        + [StructField("story_id", StringType())]
        + [StructField(c, LongType()) for c in AGGREGATES_COLUMNS[1:]]
    )
    files = sorted(
        os.path.join(out_dir, f) for f in os.listdir(out_dir) if f.startswith("slice-")
    )
    if files:
        slices = (
            spark.read.schema(schema)
            .option("sep", "\t")
            .option("header", True)
            .option("quote", "")
            .csv(files)
        )
    else:
        slices = spark.createDataFrame([], schema)
    if len(times) == 1:
        slices = slices.withColumn("as_of", F.lit(times[0]).cast("long"))
    per_story = slices.groupBy("as_of", "story_id").agg(
        *[F.sum(c).alias(c) for c in AGGREGATES_COLUMNS[1:]]
    )
    authors = world.df("stories").select("story_id", "author_id")
    per_author = (
        per_story.join(authors, "story_id")
        .groupBy("as_of", "author_id")
        .agg(
            F.sum("rate_exposures").alias("rate_exposures"),
            F.sum("rate_positives").alias("rate_positives"),
        )
    )
    return per_story.select("as_of", "story_id", "exposures").cache(), per_author.cache()


def rows_touching(df, all_columns, columns, users):
    """Rows (part, _row, line) of table `df` with any of `columns` in the partition's `users`."""
    from pyspark.sql import functions as F

    table = df.select(*columns, "_row", tsv_line(all_columns).alias("line"))
    hits = [
        table.join(users.withColumnRenamed("user", c), c).select("part", "_row", "line")
        for c in columns
    ]
    out = hits[0]
    for h in hits[1:]:
        out = out.union(h)
    return out.dropDuplicates(["part", "_row"]).select("part", "_row", F.col("line"))


def edges_both_ways(world):
    """Friendships (u, v) in both directions, self-loops dropped."""
    from pyspark.sql import functions as F

    pairs = world.df("friendships").select(F.col("user_a").alias("u"), F.col("user_b").alias("v"))
    return pairs.union(pairs.select(F.col("v").alias("u"), F.col("u").alias("v"))).filter("u != v")


class PartitionInputs:
    """The DataFrames that define each partition's input (column `part` = partition index)."""

    def __init__(self, spark, world, spec, job):
        from pyspark.sql import functions as F
        from pyspark.sql.types import IntegerType

        n, as_of = job["n"], job["as_of"]
        self.world = world
        part_of = F.udf(lambda user: fnv1a_64(user) % n, IntegerType(), useArrow=False)
        users = world.df("users")
        # V: the viewers of each partition, with their source row for ordering.
        self.viewers = users.select(
            part_of("user_id").alias("part"), F.col("user_id").alias("user"), "_row"
        ).cache()
        viewers = self.viewers.select("part", "user")
        self.parts = spark.range(n).select(F.col("id").cast("int").alias("part"))
        # F: friends of the viewers (friendships in both directions, self-loops dropped).
        edges = edges_both_ways(world)
        friends = (
            viewers.join(edges, viewers.user == edges.u)
            .select("part", F.col("v").alias("user"))
            .distinct()
            .cache()
        )
        stories = world.df("stories").withColumn("created", F.col("created_at").cast("long"))
        events = world.df("events").withColumn("t", F.col("ts").cast("long"))
        self.positive = events.filter(F.col("action").isin(spec["positive_actions"]))
        # S_P: the candidate-superset stories.
        in_network = (
            stories.filter(F.col("created") >= as_of - spec["in_network_window_s"])
            .join(friends, F.col("author_id") == friends.user)
            .select("part", "story_id")
        )
        out_of_network = (
            self.positive.filter(
                (F.col("t") >= as_of - spec["oon_window_s"]) & (F.col("t") < as_of)
            )
            .join(friends, F.col("user_id") == friends.user)
            .select("part", "story_id")
        )
        fallback = (
            stories.filter(F.col("created") >= as_of - spec["fallback_window_s"])
            .select("story_id")
            .crossJoin(self.parts)
            .select("part", "story_id")
        )
        self.story_author = world.df("stories").select("story_id", "author_id")
        self.candidates = (
            in_network.union(out_of_network)
            .union(fallback)
            .distinct()
            .join(self.story_author, "story_id")
            .cache()
        )
        # C: viewers, their friends and the candidates' authors.
        self.closure = (
            viewers.union(friends)
            .union(self.candidates.select("part", F.col("author_id").alias("user")))
            .distinct()
            .cache()
        )
        self.viewer_set = viewers

    def rows_touching(self, name, columns, users):
        return rows_touching(self.world.df(name), self.world.columns[name], columns, users)

    def events(self):
        """Events by a viewer, positive events on viewers' stories or on candidate stories."""
        w = self.world
        line = tsv_line(w.columns["events"]).alias("line")
        by_viewer = (
            w.df("events")
            .join(self.viewer_set.withColumnRenamed("user", "user_id"), "user_id")
            .select("part", "_row", line)
        )
        positive = self.positive.join(self.story_author, "story_id")
        on_viewer_story = positive.join(
            self.viewer_set.withColumnRenamed("user", "author_id"), "author_id"
        ).select("part", "_row", line)
        on_candidate = positive.join(self.candidates.select("part", "story_id"), "story_id").select(
            "part", "_row", line
        )
        return by_viewer.union(on_viewer_story).union(on_candidate).dropDuplicates(["part", "_row"])

    def aggregates(self, per_story, per_author):
        from pyspark.sql import functions as F

        stories = self.candidates.join(per_story, "story_id", "left").select(
            "part",
            F.lit(0).cast("long").alias("_row"),
            F.concat_ws("\t", "story_id", F.coalesce("exposures", F.lit(0))).alias("line"),
        )
        authors = (
            self.candidates.select("part", "author_id")
            .distinct()
            .join(per_author, "author_id", "left")
            .select(
                "part",
                F.lit(0).cast("long").alias("_row"),
                F.concat_ws(
                    "\t",
                    "author_id",
                    F.coalesce("rate_exposures", F.lit(0)),
                    F.coalesce("rate_positives", F.lit(0)),
                ).alias("line"),
            )
        )
        return stories, authors

    def tables(self, per_story, per_author):
        """Each partition table as a DataFrame (part, _row, line), keyed by name."""
        story_aggs, author_aggs = self.aggregates(per_story, per_author)
        tables = {
            "friendships": self.rows_touching("friendships", ["user_a", "user_b"], self.closure),
            "events": self.events(),
            "viewers": self.viewers.select("part", "_row", self.viewers.user.alias("line")),
            "story_aggregates": story_aggs,
            "author_aggregates": author_aggs,
        }
        if self.world.has("interactions"):
            tables["interactions"] = self.rows_touching(
                "interactions", ["from_user", "to_user"], self.viewer_set
            )
        return tables


def part_headers(world):
    headers = {name: world.header(name) for name in TABLES if world.has(name)}
    headers["viewers"] = "user_id"
    headers["story_aggregates"] = "story_id\texposures"
    headers["author_aggregates"] = "author_id\trate_exposures\trate_positives"
    return headers


def staged_parts(directory):
    """The data files Spark wrote into `directory` (none if it does not exist), in name order."""
    if not os.path.isdir(directory):
        return []
    return [
        os.path.join(directory, name)
        for name in sorted(os.listdir(directory))
        if name.startswith("part-")
    ]


def concatenate(target, header, sources):
    """Writes `header` and then the bytes of every source file; returns the number of lines."""
    lines = 0
    with open(target, "wb") as out:
        out.write(header.encode("utf-8") + b"\n")
        for source in sources:
            with open(source, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    lines += chunk.count(b"\n")
                    out.write(chunk)
    return lines


def stage_whole_table(world, name, staging):
    """Writes table `name` once as STAGING/NAME.tsv (header, then every row in source order)."""
    from pyspark.sql import functions as F

    spark_dir = os.path.join(staging, "_" + name)
    (
        world.df(name)
        .select("_row", tsv_line(world.columns[name]).alias("line"))
        .repartition(1)
        .sortWithinPartitions("_row")
        .select("line")
        .write.text(spark_dir)
    )
    target = os.path.join(staging, name + ".tsv")
    concatenate(target, world.header(name), staged_parts(spark_dir))
    shutil.rmtree(spark_dir, ignore_errors=True)
    return target


def stage_partition_tables(spark, tables, staging, n):
    """Writes every partition table from the JVM: STAGING/tables/part=i/table=NAME/part-*."""
    from pyspark.sql import functions as F

    union = None
    for name, df in tables.items():
        rows = df.select(F.col("part").cast("int").alias("part"), F.lit(name).alias("table"), "line")
        union = rows if union is None else union.unionByName(rows)
    directory = os.path.join(staging, "tables")
    # One writer per (part, table) open at a time in a task instead of sorting every row by
    # the partition columns first.
    spark.conf.set("spark.sql.maxConcurrentOutputFileWriters", str(n * len(tables) + 1))
    union.write.partitionBy("part", "table").text(directory)
    return directory


def ranking_task(job):
    """Task i: assembles partition i's world from the staged files and ranks its viewers."""

    def run(index, _ignored):
        started, cpu_started = time.time(), time.process_time()
        inject_faults(index, job["faults"])
        workdir = tempfile.mkdtemp(prefix=f"feedrank-partition-{index}-")
        try:
            world_dir = os.path.join(workdir, "world")
            os.mkdir(world_dir)
            with open(os.path.join(world_dir, "world.toml"), "w", encoding="utf-8") as f:
                f.write(job["world_toml"])
            with open(os.path.join(world_dir, "partition.toml"), "w", encoding="utf-8") as f:
                f.write(f"as_of = {job['as_of']}\npartition = {index}\npartitions = {job['n']}\n")
            counts = {}
            for name, path in job["whole"].items():
                os.symlink(path, os.path.join(world_dir, name + ".tsv"))
                counts[name] = job["totals"][name]
            part_dir = os.path.join(job["tables_dir"], f"part={index}")
            for name, header in job["headers"].items():
                if name in job["whole"]:
                    continue
                sources = staged_parts(os.path.join(part_dir, f"table={name}"))
                counts[name] = concatenate(os.path.join(world_dir, name + ".tsv"), header, sources)
            rows = {
                t: counts.get(t, 0)
                for t in ("viewers", "friendships", "stories", "events", "interactions")
            }
            usage = None
            if counts["viewers"] > 0:
                cmd = [local_binary(job), "generate", "--world", world_dir] + generate_flags(job)
                env = dict(os.environ, FEEDRANK_SNAPSHOT="off")
                out_path, usage = run_feedrank(cmd, workdir, env=env)
                yield from yield_lines(out_path)
            yield ("metrics", json.dumps(task_metrics(index, rows, started, cpu_started, usage)))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    return run


def stage_time(label, started):
    print(f"feeds.py: stage {label}: {time.time() - started:.1f} s", file=sys.stderr)


def partitioned_results(spark, world, job, staging):
    """Partitioned mode: stages the partition tables, returns the ranking tasks' records."""
    if not world.has("users"):
        raise UsageError(
            f"{world.dir}: partitioned mode needs the users table (or use --mode shard)"
        )
    spec = partition_spec(job["bin"], job["as_of"], job["model_path"], job["config_path"])
    started = time.time()
    os.makedirs(staging, exist_ok=True)
    per_story, per_author = aggregate_sums(spark, world, job, staging)
    per_story.count()
    per_author.count()
    stage_time("aggregates", started)
    started = time.time()
    tables = PartitionInputs(spark, world, spec, job).tables(per_story, per_author)
    job["whole"] = {name: stage_whole_table(world, name, staging) for name in ("users", "stories")}
    job["tables_dir"] = stage_partition_tables(spark, tables, staging, job["n"])
    stage_time("partition tables", started)
    job["headers"] = part_headers(world)
    job["world_toml"] = world.toml
    n = job["n"]
    return spark.sparkContext.parallelize(range(n), n).mapPartitionsWithIndex(ranking_task(job))


# ---------------------------------------------------------------------------------------
# Training beyond one machine: the training input of a sample of viewers

SAMPLE_MODULUS = 1_000_000
DAY = 86_400


def default_training_as_of(world):
    """What `feedrank train` uses: the start of the UTC day of the last event (held out)."""
    from pyspark.sql import functions as F

    last = world.df("events").agg(F.max(F.col("ts").cast("long"))).first()[0]
    if last is None:
        raise UsageError(f"{world.dir}: the world has no events to train on")
    return ((int(last) - DAY + 1) // DAY) * DAY


def training_tables(spark, world, spec, job, staging):
    """The tables (part 0) of the training input of the viewers in the sample: the users whose
    FNV-1a hash of their id modulo 1,000,000 is below fraction x 1,000,000 (the sample of
    `feedrank partition --training`). With S the stories they first saw before the cut-off:
    the friendships touching them, their friends or S's authors; the events before the
    cut-off by them and the positive ones on S or on their stories; their interactions
    before the cut-off; and the aggregates of S and of its authors at the start of every
    day of those first sightings, summed from `feedrank aggregates` over event slices."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType

    as_of = job["as_of"]
    threshold = round(job["sample"] * SAMPLE_MODULUS)
    in_sample = F.udf(
        lambda user: fnv1a_64(user) % SAMPLE_MODULUS < threshold, BooleanType(), useArrow=False
    )
    viewers = (
        world.df("users")
        .filter(in_sample("user_id"))
        .select(F.lit(0).alias("part"), F.col("user_id").alias("user"), "_row")
        .cache()
    )
    viewer_set = viewers.select("part", "user")
    events = world.df("events").withColumn("t", F.col("ts").cast("long"))
    before = events.filter(F.col("t") < as_of)
    by_viewer = before.join(viewer_set.withColumnRenamed("user", "user_id"), "user_id")
    first = by_viewer.groupBy("user_id", "story_id").agg(F.min("t").alias("t"))
    exposed = first.select("story_id").distinct().cache()
    days = sorted(
        int(r.day)
        for r in first.select((F.floor(F.col("t") / DAY) * DAY).alias("day")).distinct().collect()
    )
    if not days:
        raise UsageError(
            f"the sample's viewers saw no story before as_of {as_of}: nothing to train on"
        )
    job["aggregate_times"] = days
    started = time.time()
    per_story, per_author = aggregate_sums(spark, world, job, staging)
    stage_time("aggregates", started)
    story_author = world.df("stories").select("story_id", "author_id")
    exposed_by = exposed.join(story_author, "story_id").cache()
    friends = (
        viewer_set.join(edges_both_ways(world), F.col("user") == F.col("u"))
        .select("part", F.col("v").alias("user"))
    )
    closure = (
        viewer_set.union(friends)
        .union(exposed_by.select(F.lit(0).alias("part"), F.col("author_id").alias("user")))
        .distinct()
    )
    line = tsv_line(world.columns["events"]).alias("line")
    positive = before.filter(F.col("action").isin(spec["positive_actions"]))
    on_exposed = positive.join(exposed, "story_id")
    on_viewer_story = positive.join(story_author, "story_id").join(
        viewer_set.withColumnRenamed("user", "author_id"), "author_id"
    )
    events_rows = (
        by_viewer.select("_row", line)
        .union(on_exposed.select("_row", line))
        .union(on_viewer_story.select("_row", line))
        .dropDuplicates(["_row"])
        .select(F.lit(0).alias("part"), "_row", "line")
    )
    day_rows = spark.createDataFrame([(d,) for d in days], "as_of long")

    def aggregate_lines(keys, sums, key, values):
        return (
            keys.crossJoin(day_rows)
            .join(sums, ["as_of", key], "left")
            .select(
                F.lit(0).alias("part"),
                F.lit(0).cast("long").alias("_row"),
                F.concat_ws(
                    "\t", "as_of", key, *[F.coalesce(v, F.lit(0)) for v in values]
                ).alias("line"),
            )
        )

    tables = {
        "viewers": viewers.select("part", "_row", F.col("user").alias("line")),
        "friendships": rows_touching(
            world.df("friendships"), world.columns["friendships"], ["user_a", "user_b"], closure
        ),
        "events": events_rows,
        "story_aggregates": aggregate_lines(exposed, per_story, "story_id", ["exposures"]),
        "author_aggregates": aggregate_lines(
            exposed_by.select("author_id").distinct(),
            per_author,
            "author_id",
            ["rate_exposures", "rate_positives"],
        ),
    }
    if world.has("interactions"):
        interactions = world.df("interactions").filter(F.col("ts").cast("long") < as_of)
        tables["interactions"] = rows_touching(
            interactions, world.columns["interactions"], ["from_user", "to_user"], viewer_set
        )
    return tables


def write_training_inputs(spark, world, job, staging, target):
    """Writes the training input of the sample to `target` (a world directory with
    partition.toml `training = true`) and returns its table row counts."""
    spec = partition_spec(job["bin"], job["as_of"], None, job["config_path"])
    os.makedirs(staging, exist_ok=True)
    tables = training_tables(spark, world, spec, job, staging)
    started = time.time()
    tables_dir = stage_partition_tables(spark, tables, staging, 1)
    headers = part_headers(world)
    headers["story_aggregates"] = "as_of\t" + headers["story_aggregates"]
    headers["author_aggregates"] = "as_of\t" + headers["author_aggregates"]
    # Written beside the target, then renamed: a failed job leaves no half-written input.
    partial = target.rstrip("/") + f".partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    counts = {}
    for name in ("users", "stories"):
        os.replace(stage_whole_table(world, name, staging), os.path.join(partial, name + ".tsv"))
        counts[name] = job["totals"][name]
    part_dir = os.path.join(tables_dir, "part=0")
    for name, header in headers.items():
        if name in counts:
            continue
        sources = staged_parts(os.path.join(part_dir, f"table={name}"))
        counts[name] = concatenate(os.path.join(partial, name + ".tsv"), header, sources)
    with open(os.path.join(partial, "world.toml"), "w", encoding="utf-8") as f:
        f.write(world.toml)
    with open(os.path.join(partial, "partition.toml"), "w", encoding="utf-8") as f:
        f.write(
            f"as_of = {job['as_of']}\npartition = 0\npartitions = 1\ntraining = true\n"
            f"author_rate_window_s = {spec['author_rate_window_s']}\n"
        )
    stage_time("training input", started)
    if os.path.isdir(target):
        os.rmdir(target)  # empty (checked by the arguments)
    os.replace(partial, target)
    return counts


# ---------------------------------------------------------------------------------------
# Output


def feed_heads(feeds_dir):
    """The model's heads, in feedrank's order, from the first feed item found in the output."""
    for name in sorted(os.listdir(feeds_dir)):
        if not name.startswith("part-"):
            continue
        with open(os.path.join(feeds_dir, name), encoding="utf-8") as f:
            for line in f:
                items = json.loads(line)["items"]
                if items:
                    return list(items[0]["p"])
    return []


def feeds_schema(heads):
    """The schema of a feed line (given, so that Spark need not infer it from every line)."""
    from pyspark.sql.types import (
        ArrayType,
        BooleanType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    p = StructType([StructField(h, DoubleType()) for h in heads])
    item = StructType(
        [StructField(c, StringType()) for c in ("story", "author", "source")]
        + [StructField("rank", LongType()), StructField("score", DoubleType()), StructField("p", p)]
    )
    return StructType(
        [
            StructField("user", StringType()),
            StructField("as_of", LongType()),
            StructField("fallback", BooleanType()),
            StructField("items", ArrayType(item)),
        ]
    )


def write_feeds_parquet(spark, feeds_dir, out_dir):
    """One row per feed item (an empty feed: one row with rank 0), one column per model head."""
    from pyspark.sql import functions as F

    heads = feed_heads(feeds_dir)
    feeds = spark.read.schema(feeds_schema(heads)).json(feeds_dir)
    items = feeds.select("user", "as_of", "fallback", F.explode_outer("items").alias("item"))
    rows = items.select(
        "user",
        "as_of",
        "fallback",
        F.coalesce(F.col("item.rank"), F.lit(0)).alias("rank"),
        *[F.col(f"item.{c}").alias(c) for c in ("story", "author", "source", "score")],
        *[F.col(f"item.p.{h}").alias(f"p_{h}") for h in heads],
    )
    rows.write.parquet(out_dir)


def write_outputs(spark, results, out, job, world_totals, staging):
    started = time.time()
    results = results.persist()
    results.filter(lambda kv: kv[0] == "feed").map(lambda kv: kv[1]).saveAsTextFile(
        os.path.join(out, "feeds")
    )
    metrics = sorted(
        (
            json.loads(text)
            for kind, text in results.filter(lambda kv: kv[0] == "metrics").collect()
        ),
        key=lambda m: m["partition"],
    )
    results.unpersist()
    stage_time("ranking", started)
    started = time.time()
    write_feeds_parquet(spark, os.path.join(out, "feeds"), os.path.join(out, "feeds.parquet"))
    stage_time("feeds.parquet", started)
    doc = {
        "mode": job["mode"],
        "as_of": job["as_of"],
        "partitions": metrics,
        "totals": world_totals,
    }
    with open(os.path.join(out, "_metrics.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    shutil.rmtree(staging, ignore_errors=True)
    open(os.path.join(out, "_SUCCESS"), "w").close()


# ---------------------------------------------------------------------------------------


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("feedrank feeds").getOrCreate()
    sc = spark.sparkContext
    if args.partitions is None:
        args.partitions = sc.defaultParallelism
    if not sc.getConf().contains("spark.sql.shuffle.partitions"):
        # Spark's default of 200 shuffle partitions is overhead on small worlds.
        spark.conf.set(
            "spark.sql.shuffle.partitions", str(max(2 * args.partitions, sc.defaultParallelism))
        )
    sc.setLogLevel(os.environ.get("FEEDRANK_SPARK_LOG_LEVEL", "WARN"))
    sc.addFile(args.bin)
    model_name = os.path.basename(args.model) if args.model else None
    if args.model:
        sc.addFile(os.path.abspath(args.model))
    config_name = os.path.basename(args.config) if args.config else None
    if args.config:
        sc.addFile(os.path.abspath(args.config))
    world = World(spark, args.world)
    if args.write_inputs:
        return main_training(spark, args, world, config_name)
    as_of = args.as_of if args.as_of is not None else default_as_of(world)
    totals = world_counts(world)
    job = {
        "mode": args.mode,
        "n": args.partitions,
        "as_of": as_of,
        "aggregate_times": [as_of],
        "k": args.k,
        "config": config_name,
        "config_path": args.config,
        "model_path": os.path.abspath(args.model),
        "bin": args.bin,
        "faults": fault_settings(),
        "totals": totals,
        "files": {"bin": os.path.basename(args.bin), "model": model_name, "config": config_name},
    }
    print(
        f"feeds.py: {args.mode} mode, {args.partitions} partitions, as_of {as_of}, world {world.dir} ({world.format})",
        file=sys.stderr,
    )
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="feedrank-spark-driver-")
    # The partition tables, written by the JVM and read by the ranking tasks: on a cluster,
    # OUT (hence OUT/_staging) must be on storage every worker reads.
    staging = os.path.join(os.path.abspath(args.out), "_staging")
    try:
        if args.mode == "shard":
            results = shard_results(sc, world, job, tmp)
        else:
            results = partitioned_results(spark, world, job, staging)
        write_outputs(spark, results, args.out, job, totals, staging)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        if "marker_dir" in job["faults"]:
            shutil.rmtree(job["faults"]["marker_dir"], ignore_errors=True)
    spark.stop()
    print(f"feeds.py: wrote {args.out}", file=sys.stderr)


def main_training(spark, args, world, config_name):
    """`--sample-viewers F --write-inputs DIR`: the training input of the sample."""
    as_of = args.as_of if args.as_of is not None else default_training_as_of(world)
    job = {
        "n": args.partitions,
        "as_of": as_of,
        "sample": args.sample_viewers,
        "config_path": args.config,
        "bin": args.bin,
        "totals": world_counts(world),
        "files": {"bin": os.path.basename(args.bin), "model": None, "config": config_name},
    }
    print(
        f"feeds.py: training input of a {args.sample_viewers} viewer sample, cut off at as_of "
        f"{as_of}, world {world.dir} ({world.format})",
        file=sys.stderr,
    )
    # Staged beside the input: on a cluster, its directory must be on storage every worker
    # reads and writes (as OUT for ranking).
    staging = os.path.abspath(args.write_inputs).rstrip("/") + f".staging-{os.getpid()}"
    try:
        counts = write_training_inputs(spark, world, job, staging, args.write_inputs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    spark.stop()
    print(
        f"feeds.py: wrote {args.write_inputs}: "
        + ", ".join(f"{counts[t]} {t}" for t in sorted(counts)),
        file=sys.stderr,
    )


def entry():
    try:
        main(sys.argv[1:])
    except UsageError as e:
        print(f"feeds.py: error: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # a failed Spark job: the full trace, then the cause in one place
        traceback.print_exc()
        print("feeds.py: error: the Spark job failed" + task_error(str(e)), file=sys.stderr)
        sys.exit(1)


def task_error(text):
    """The FeedrankTaskError message in a Spark failure's text (with feedrank's stderr)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("FeedrankTaskError:"):
            cause = [line[len("FeedrankTaskError:") :].strip()]
            for more in lines[i + 1 : i + 40]:
                if more.startswith(" SQLSTATE") or more.startswith("\tat "):
                    break
                cause.append(more)
            return ": " + "\n".join(cause)
    return ""


if __name__ == "__main__":
    entry()
