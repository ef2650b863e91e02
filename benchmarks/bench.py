"""Benchmark of the main-image pipeline on DuckDB: full, incremental and no-input runs.

    python benchmarks/bench.py --size s          # `make bench BENCH_SIZE=s`
    python benchmarks/bench.py --size task-100k  # the original task's format, 100k hotels
    python benchmarks/bench.py --size l --delete-data

For one size it
  1. generates the landing data with `main-image generate` (two deliveries; delivery 2 touches
     `change_fraction` of the hotels), cached under --data-dir between invocations;
  2. runs the pipeline three times on a fresh warehouse, each run a separate `main-image run`
     process: full (delivery 1), incremental (delivery 2, the next day), no input (same day);
     the task sizes (`task-100k`, `task-300k`: `main-image generate --format task`, one delivery
     of images, tags and main images) run full and no input only;
  3. runs the two floors, each one hand-written DuckDB query over the delivery-1 landing files
     that computes the winners of the full run: floor.sql validates like staging does,
     floor_typed.sql reads typed columns and validates nothing (the fastest selection); each
     must select exactly the pipeline's snapshot (a wrong floor is worthless: the script fails
     when one differs);
  4. prints a table and writes one JSON object per measurement to --results-dir.

Wall time is measured around the process; peak memory is the highest summed RSS of the
process and all its children, polled every 0.2 s with psutil. The 1-minute load average is
recorded before and after each measurement (the machine may be shared).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
#: floor measurement -> its query
FLOORS = {
    "floor": Path(__file__).resolve().parent / "floor.sql",
    "floor_typed": Path(__file__).resolve().parent / "floor_typed.sql",
}

#: size -> (hotels, change_fraction of delivery 2)
SIZES: dict[str, tuple[int, float]] = {
    "xs": (1_000, 0.01),  # the smoke test
    "s": (20_000, 0.01),
    "m": (200_000, 0.01),
    "l": (1_000_000, 0.01),
    # the original task's format (main-image generate --format task): one delivery
    "task-100k": (100_000, 0.0),
    "task-300k": (300_000, 0.0),
}
TASK_FEEDS = ("images", "image_tags", "main_images")
START_DATE = date(2024, 7, 1)
SEED = 42

#: CLI flag of each feed (see main_image.cli.FEED_FLAGS)
FEED_FLAGS = {
    "images": "--images",
    "image_tags": "--tags",
    "obiq_scores": "--obiq",
    "main_images": "--main_images",
    "admin_overrides": "--overrides",
    "user_events": "--user_events",
}
STAGES_RE = re.compile(r"run \S+: done \((?P<stages>[^)]*)\)")
STAGE_RE = re.compile(r"(\w+) ([0-9.]+)s")
DBT_TOTAL_RE = re.compile(r"dbt build[^:\n]*: (\d+) nodes in ([0-9.]+)s")
SKIPPED_RE = re.compile(r"transform: skipped, nothing to do: (.*)")
DBT_NODE_RE = re.compile(r"dbt \[\s*\d+\] (\S+)\s+(\S+) \(([0-9.]+)s\)")


@dataclass
class Measurement:
    size: str
    kind: str  # generate | full | incremental | no_input | floor
    hotels: int
    wall_seconds: float
    cpu_seconds: float  # user + system CPU of the process tree
    peak_rss_mb: float
    input_lines: int
    rows_per_second: float | None
    loadavg_before: float
    loadavg_after: float
    stages: dict[str, float] = field(default_factory=dict)
    dbt: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    command: list[str] = field(default_factory=list)


# --- process measurement -------------------------------------------------------------------


def tree_rss(process: psutil.Process) -> int:
    """Summed RSS of a process and all its descendants (bytes); 0 once it is gone."""
    total = 0
    try:
        procs = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += proc.memory_info().rss
    return total


def measure(
    command: list[str], env: dict[str, str], log_path: Path
) -> tuple[float, float, int, str]:
    """Run `command`; returns (wall seconds, CPU seconds, peak tree RSS in bytes, its output).
    Raises on failure."""
    peak = 0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = usage.ru_utime + usage.ru_stime
    stop = threading.Event()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log, text=True
        )
        proc = psutil.Process(child.pid)

        def poll() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, tree_rss(proc))
                stop.wait(0.2)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        stdout, _ = child.communicate()
        seconds = time.perf_counter() - started
        stop.set()
        poller.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    stderr = log_path.read_text(encoding="utf-8")
    if child.returncode != 0:
        tail = "\n".join(stderr.splitlines()[-30:])
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{tail}")
    return seconds, cpu, peak, stderr + stdout


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


# --- data ----------------------------------------------------------------------------------


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(64 << 20):
                total += chunk.count(b"\n")
    return total


def is_task_size(size: str) -> bool:
    return size.startswith("task-")


def delivery_files(delivery: Path) -> dict[str, list[Path]]:
    """The landing files of a delivery folder (<feed>/*.jsonl), or of the task's format
    (images.jsonl, image_tags.jsonl, main_images.jsonl in the folder itself)."""
    if (delivery / "images.jsonl").is_file():
        return {feed: [delivery / f"{feed}.jsonl"] for feed in TASK_FEEDS
                if (delivery / f"{feed}.jsonl").is_file()}
    files: dict[str, list[Path]] = {}
    for feed in FEED_FLAGS:
        parts = sorted((delivery / feed).glob("*.jsonl"))
        if parts:
            files[feed] = parts
    return files


def ensure_data(size: str, hotels: int, change_fraction: float, data_dir: Path,
                env: dict[str, str], results: list[Measurement], args: argparse.Namespace) -> Path:
    """Generate the size's landing data unless a complete copy with the same config exists."""
    out = data_dir / size
    task = is_task_size(size)
    config = {"hotels": hotels, "seed": SEED, "deliveries": 1 if task else 2,
              "change_fraction": change_fraction, "start_date": START_DATE.isoformat(),
              "format": "task" if task else "deliveries"}
    marker = out / "generated.json"
    if marker.exists() and json.loads(marker.read_text()).get("config") == config:
        print(f"[bench] {size}: reusing landing data in {out}", file=sys.stderr)
        return out
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "main_image.cli", "generate", "--hotels", str(hotels),
               "--seed", str(SEED), "--start-date", START_DATE.isoformat()]
    if task:  # the three files in delivery-01/ itself
        command += ["--format", "task", "--out", str(out / "delivery-01")]
    else:
        command += ["--out", str(out), "--deliveries", "2",
                    "--change-fraction", str(change_fraction)]
    print(f"[bench] {size}: generating {hotels:,} hotels into {out}", file=sys.stderr)
    before = loadavg()
    seconds, cpu, peak, _ = measure(command, env, args.work_dir / size / "logs" / "generate.log")
    generated = sorted({*out.glob("delivery-*/*/*.jsonl"), *out.glob("delivery-*/*.jsonl")})
    lines = count_lines(generated)
    size_bytes = sum(p.stat().st_size for p in generated)
    results.append(Measurement(
        size, "generate", hotels, round(seconds, 2), round(cpu, 2), round(peak / 2**20, 1), lines,
        round(lines / seconds), before, loadavg(), output={"bytes": size_bytes},
        command=command,
    ))
    marker.write_text(json.dumps({"config": config, "lines": lines, "bytes": size_bytes}) + "\n")
    return out


# --- runs ----------------------------------------------------------------------------------


def run_command(warehouse: Path, outputs: Path, run_id: str, as_of: date,
                files: dict[str, list[Path]]) -> list[str]:
    command = [sys.executable, "-m", "main_image.cli", "run", "--warehouse", str(warehouse),
               "--run-id", run_id, "--as-of", as_of.isoformat(),
               "--output-cdc", str(outputs / "changes.jsonl"),
               "--output-snapshot", str(outputs / "snapshot.jsonl"),
               "--output-metrics", str(outputs / "metrics.json")]
    for feed, paths in files.items():
        for path in paths:
            command += [FEED_FLAGS[feed], str(path)]
    return command


def scoring_args(settings: dict[str, Any]) -> list[str]:
    """The CLI flags of the scoring versions under test (--scoring-version, --shadow-...)."""
    args = ["--scoring-version", settings["scoring_version"]]
    if settings.get("shadow_scoring_version"):
        args += ["--shadow-scoring-version", settings["shadow_scoring_version"]]
    return args


def dbt_profile(stderr: str, run_id: str, target_path: Path) -> dict[str, Any]:
    """dbt's per-node times: run_results.json of the bench's own dbt target folder when it is
    this run's, else the models reported on the progress lines."""
    total = DBT_TOTAL_RE.search(stderr)
    profile: dict[str, Any] = {}
    if total:
        profile["nodes"] = int(total.group(1))
        profile["seconds"] = float(total.group(2))
    nodes: dict[str, float] = {}
    source = "progress"
    results_path = target_path / "run_results.json"
    try:
        run_results = json.loads(results_path.read_text(encoding="utf-8"))
        cli_vars = run_results.get("args", {}).get("vars", {})
        if isinstance(cli_vars, str):
            cli_vars = json.loads(cli_vars)
        if cli_vars.get("run_id") == run_id:
            source = "run_results"
            profile["execution_seconds"] = round(run_results.get("elapsed_time", 0.0), 2)
            for result in run_results["results"]:
                nodes[result["unique_id"]] = round(result.get("execution_time") or 0.0, 3)
    except (OSError, ValueError, KeyError):
        pass
    if source == "progress":
        for match in DBT_NODE_RE.finditer(stderr):
            nodes[match.group(2)] = float(match.group(3))
    models = {k: v for k, v in nodes.items() if not k.startswith(("test.", "unit_test."))}
    tests = {k: v for k, v in nodes.items() if k.startswith(("test.", "unit_test."))}
    profile["source"] = source
    profile["models"] = dict(sorted(models.items(), key=lambda item: -item[1]))
    profile["tests_seconds"] = round(sum(tests.values()), 2)
    profile["tests"] = len(tests)
    profile["slowest_tests"] = dict(sorted(tests.items(), key=lambda item: -item[1])[:5])
    return profile


def pipeline_run(kind: str, size: str, hotels: int, warehouse: Path, work: Path, as_of: date,
                 files: dict[str, list[Path]], env: dict[str, str], settings: dict[str, Any],
                 machine: dict[str, Any]) -> Measurement:
    run_id = f"bench-{size}-{kind}"
    outputs = work / "exports" / kind
    command = run_command(warehouse, outputs, run_id, as_of, files) + scoring_args(settings)
    lines = count_lines([p for paths in files.values() for p in paths])
    print(f"[bench] {size}: {kind} run ({lines:,} input lines)", file=sys.stderr)
    before = loadavg()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    seconds, cpu, peak, stderr = measure(command, env, work / "logs" / f"{kind}.log")
    after = loadavg()
    stages = {}
    match = STAGES_RE.search(stderr)
    if match:
        stages = {name: float(value) for name, value in STAGE_RE.findall(match.group("stages"))}
    stages["startup_and_other"] = round(seconds - sum(stages.values()), 2)
    profile = dbt_profile(stderr, run_id, Path(env["DBT_TARGET_PATH"]))
    skipped = SKIPPED_RE.search(stderr)
    if skipped:  # transform_skip: no dbt build (its reason)
        profile = {"skipped": skipped.group(1)}
    metrics = json.loads((outputs / "metrics.json").read_text(encoding="utf-8"))
    changes = count_lines([outputs / "changes.jsonl"])
    snapshot = count_lines([outputs / "snapshot.jsonl"])
    warehouse_bytes = warehouse.stat().st_size if warehouse.exists() else 0
    return Measurement(
        size, kind, hotels, round(seconds, 2), round(cpu, 2), round(peak / 2**20, 1), lines,
        round(lines / seconds) if lines else None, before, after, stages,
        profile,
        {"changes": changes, "snapshot": snapshot, "metrics": metrics,
         "warehouse_bytes": warehouse_bytes},
        settings, machine, started_at, command,
    )


def floor_run(size: str, hotels: int, data: Path, work: Path, as_of: date, env: dict[str, str],
              settings: dict[str, Any], machine: dict[str, Any], snapshot: Path,
              kind: str = "floor") -> Measurement:
    """A floor query (``FLOORS[kind]``) in its own process (so its RSS is real), then the check
    against the pipeline's snapshot of the full run."""
    winners = work / f"{kind}_winners.parquet"
    command = [sys.executable, str(Path(__file__).resolve()), "--floor-query",
               "--floor-sql", str(FLOORS[kind]),
               "--data", str(data / "delivery-01"), "--as-of", as_of.isoformat(),
               "--floor-out", str(winners)]
    files = delivery_files(data / "delivery-01")
    lines = count_lines(files.get("images", []) + files.get("image_tags", []))
    print(f"[bench] {size}: {kind} query ({lines:,} image and tag lines)", file=sys.stderr)
    before = loadavg()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    seconds, cpu, peak, output = measure(command, env, work / "logs" / f"{kind}.log")
    after = loadavg()
    query_seconds = json.loads(output.strip().splitlines()[-1])["query_seconds"]
    check = compare_winners(winners, snapshot, kind)
    return Measurement(
        size, kind, hotels, round(seconds, 2), round(cpu, 2), round(peak / 2**20, 1), lines,
        round(lines / seconds), before, after, {"query": query_seconds},
        output={"winners": check["winners"], "matches_snapshot": check["matches"]},
        settings=settings, machine=machine, started_at=started_at, command=command,
    )


def duckdb_settings_sql(threads: str, memory_limit: str, temp_dir: str) -> list[str]:
    return [
        f"set threads = {int(threads)}",
        f"set memory_limit = '{memory_limit}'",
        f"set temp_directory = '{temp_dir}'",
        "set preserve_insertion_order = true",
        "set TimeZone = 'UTC'",
    ]


def floor_query(data: Path, as_of: date, out: Path, floor_sql: Path = FLOORS["floor"]) -> None:
    """Child process of a floor measurement: run the floor's query, write the winners."""
    import duckdb

    files = delivery_files(data)
    con = duckdb.connect()
    for statement in duckdb_settings_sql(
        os.environ.get("MAIN_IMAGE_DUCKDB_THREADS", "2"),
        os.environ.get("MAIN_IMAGE_DUCKDB_MEMORY_LIMIT", "8GB"),
        os.environ.get("MAIN_IMAGE_DUCKDB_TEMP_DIR", str(out.parent / "tmp")),
    ):
        con.execute(statement)
    listing = lambda feed: "[" + ", ".join(f"'{p}'" for p in files.get(feed, [])) + "]"  # noqa: E731
    sql = (floor_sql.read_text(encoding="utf-8")
           .replace("{{ images }}", listing("images"))
           .replace("{{ image_tags }}", listing("image_tags"))
           .replace("{{ as_of }}", as_of.isoformat()))
    started = time.perf_counter()
    con.execute(f"copy ({sql}) to '{out}' (format parquet)")
    seconds = time.perf_counter() - started
    print(json.dumps({"query_seconds": round(seconds, 2)}))


def compare_winners(winners: Path, snapshot: Path, kind: str = "floor") -> dict[str, Any]:
    """The floor's winners must equal the full run's snapshot (image id and URL per hotel)."""
    import duckdb

    con = duckdb.connect()
    diff = con.execute(
        f"""
        with floor as (select hotel_id, image_id, cdn_url from read_parquet('{winners}')),
        snap as (
            select key.hotel_id as hotel_id, value.image_id as image_id, value.cdn_url as cdn_url
            from read_json('{snapshot}', format = 'newline_delimited', columns = {{
                key: 'struct(hotel_id bigint)', value: 'struct(image_id bigint, cdn_url varchar)'
            }})
        )
        select
            (select count(*) from floor),
            (select count(*) from snap),
            (select count(*) from (select * from floor except all select * from snap)),
            (select count(*) from (select * from snap except all select * from floor))
        """
    ).fetchone()
    floor_rows, snapshot_rows, only_floor, only_snapshot = diff
    if only_floor or only_snapshot:
        raise AssertionError(
            f"the {kind} query disagrees with the pipeline's snapshot: {floor_rows} floor winners, "
            f"{snapshot_rows} snapshot rows, {only_floor} only in the floor, "
            f"{only_snapshot} only in the snapshot"
        )
    return {"winners": floor_rows, "matches": True}


# --- report --------------------------------------------------------------------------------


def print_table(results: list[Measurement]) -> None:
    header = (f"{'size':<9} {'measurement':<12} {'hotels':>10} {'input lines':>12} "
              f"{'wall s':>8} {'CPU s':>7} {'peak RSS MB':>11} {'lines/s':>10} {'load':>5}  stages")
    print(header)
    print("-" * len(header))
    for m in results:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in m.stages.items())
        rate = f"{m.rows_per_second:,}" if m.rows_per_second else "-"
        print(f"{m.size:<9} {m.kind:<12} {m.hotels:>10,} {m.input_lines:>12,} "
              f"{m.wall_seconds:>8.1f} {m.cpu_seconds:>7.1f} {m.peak_rss_mb:>11,.0f} {rate:>10} "
              f"{m.loadavg_before:>5.1f}  {stages}")
    by_kind = {m.kind: m for m in results}
    full = by_kind.get("full")
    if full is not None:
        print_profile(full)
        ratios = []
        if "incremental" in by_kind:
            ratios.append(f"incremental/full = "
                          f"{by_kind['incremental'].wall_seconds / full.wall_seconds:.3f}")
        if "no_input" in by_kind:
            no_input = by_kind["no_input"]
            skipped = " (dbt skipped)" if no_input.dbt.get("skipped") else ""
            ratios.append(f"no_input = {no_input.wall_seconds:.1f}s{skipped}")
        for kind, target in (("floor_typed", 6), ("floor", 3)):
            if kind in by_kind:
                floor = by_kind[kind]
                ratios.append(f"full/{kind} = {full.wall_seconds / floor.wall_seconds:.2f} "
                              f"(target <= {target}; query only "
                              f"{full.wall_seconds / floor.stages['query']:.2f})")
        print("; ".join(ratios))


def print_profile(full: Measurement, top: int = 25) -> None:
    """The full run's stages and its dbt models by execution time (run_results.json)."""
    print(f"\nfull run: {', '.join(f'{k} {v:.2f}s' for k, v in full.stages.items())}")
    dbt = full.dbt
    models = dbt.get("models", {})
    if not models:
        return
    in_nodes = sum(models.values()) + dbt.get("tests_seconds", 0.0)
    print(f"dbt: {dbt.get('nodes', '?')} nodes, {dbt.get('seconds', 0.0):.2f}s "
          f"(source {dbt.get('source')}); models {sum(models.values()):.2f}s, "
          f"{dbt.get('tests', 0)} tests {dbt.get('tests_seconds', 0.0):.2f}s, outside nodes "
          f"{dbt.get('seconds', 0.0) - in_nodes:.2f}s")
    for name, seconds in list(models.items())[:top]:
        print(f"  {seconds:>7.3f}s  {name.removeprefix('model.main_image.')}")
    rest = list(models.values())[top:]
    if rest:
        print(f"  {sum(rest):>7.3f}s  {len(rest)} other nodes")
    print()


def write_results(results: list[Measurement], results_dir: Path) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for m in results:
        path = results_dir / f"{stamp}-{m.size}-{m.kind}.json"
        path.write_text(json.dumps(asdict(m), indent=1, default=str) + "\n", encoding="utf-8")
    print(f"[bench] results: {results_dir}/{stamp}-*.json", file=sys.stderr)


def git_commit(root: Path = REPO) -> str:
    """The checkout's commit, with "+dirty" when its working tree has changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                                capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, text=True, capture_output=True, check=True).stdout
        return commit + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="s")
    parser.add_argument("--hotels", type=int, help="override the size's number of hotels")
    parser.add_argument("--data-dir", type=Path, default=REPO / "benchmarks" / "data")
    parser.add_argument("--work-dir", type=Path, default=REPO / "benchmarks" / "data" / "work")
    parser.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--delete-data", action="store_true",
                        help="delete the landing data and warehouse afterwards")
    parser.add_argument("--pipeline-root", type=Path, default=REPO,
                        help="measure the pipeline of another checkout (e.g. a git worktree of "
                        "an older commit): its plugins/ and dbt_project/")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["full", "incremental", "no_input", *FLOORS])
    # internal: the floor query's child process
    parser.add_argument("--scoring-version", default="v1", help="active scoring version")
    parser.add_argument("--shadow-scoring-version", default=None,
                        help="also rank with this version (rpt_scoring_shadow)")
    parser.add_argument("--floor-query", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor-sql", type=Path, default=FLOORS["floor"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    parser.add_argument("--floor-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.floor_query:
        floor_query(args.data, date.fromisoformat(args.as_of), args.floor_out, args.floor_sql)
        return 0

    hotels, change_fraction = SIZES[args.size]
    hotels = args.hotels or hotels
    size = args.size
    args.work_dir = args.work_dir.resolve()
    work = args.work_dir / size
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    env = dict(os.environ)
    pipeline_root = args.pipeline_root.resolve()
    env["PYTHONPATH"] = os.pathsep.join(
        [str(pipeline_root / "plugins"), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["MAIN_IMAGE_HOME"] = str(pipeline_root)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("DO_NOT_TRACK", "1")
    env["MAIN_IMAGE_DUCKDB_TEMP_DIR"] = str(work / "tmp")
    # dbt's artefacts (run_results.json with every node's time) and logs of the bench's runs
    # stay apart from dbt_project/target, which other runs on the machine may rewrite
    env["DBT_TARGET_PATH"] = str(work / "dbt_target")
    env["DBT_LOG_PATH"] = str(work / "dbt_logs")
    settings = {
        "memory_limit": env.get("MAIN_IMAGE_DUCKDB_MEMORY_LIMIT", "8GB"),
        "threads": env.get("MAIN_IMAGE_DUCKDB_THREADS", "2"),
        "temp_directory": env["MAIN_IMAGE_DUCKDB_TEMP_DIR"],
        "scoring_version": args.scoring_version,
        "shadow_scoring_version": args.shadow_scoring_version,
    }
    machine = {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "commit": git_commit(pipeline_root),
        "pipeline_root": str(pipeline_root),
        "host": platform.node(),
    }

    results: list[Measurement] = []
    data = ensure_data(size, hotels, change_fraction, args.data_dir.resolve(), env, results, args)
    warehouse = work / "warehouse.duckdb"
    day1, day2 = START_DATE, START_DATE + timedelta(days=1)
    plan = [
        ("full", day1, delivery_files(data / "delivery-01")),
        ("incremental", day2, delivery_files(data / "delivery-02")),
        ("no_input", day2, {}),
    ]
    if is_task_size(size):  # one delivery: the no-input run follows the full run, same day
        plan = [("full", day1, delivery_files(data / "delivery-01")), ("no_input", day1, {})]
    try:
        for kind, as_of, files in plan:
            if kind in args.skip:
                continue
            results.append(pipeline_run(kind, size, hotels, warehouse, work, as_of, files, env,
                                        settings, machine))
        for kind in FLOORS:
            if kind not in args.skip and "full" not in args.skip:
                results.append(floor_run(size, hotels, data, work, day1, env, settings, machine,
                                         work / "exports" / "full" / "snapshot.jsonl", kind))
    finally:
        if results:
            write_results(results, args.results_dir)
        if args.delete_data:
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
