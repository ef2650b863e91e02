"""``main-image stream`` and ``main-image produce``: the stream's subcommands.

``register(commands)`` adds them to the ``main-image`` parser; each sets ``handler``. Bad
arguments and an unreachable broker are one line on stderr and exit code 2; a drain that
fails midway (broker lost) is exit code 1; a finished drain is 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from main_image.stream.config import (
    DEFAULT_FLUSH_MESSAGES,
    DEFAULT_FLUSH_SECONDS,
    DEFAULT_GROUP_ID,
    StreamConfig,
    StreamConfigError,
    parse_properties,
)


class UsageError(Exception):
    """A bad argument or an unreachable broker: one line, exit code 2."""


def _usage_errors(handler: Any) -> Any:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (UsageError, StreamConfigError) as error:
            print(f"main-image: error: {error}", file=sys.stderr)
            return 2

    return wrapped


#: How long the broker has to answer the first metadata request.
CONNECT_TIMEOUT_SECONDS = 5.0


def _common(parser: argparse.ArgumentParser, many_topics: bool) -> None:
    parser.add_argument("--bootstrap-servers", "--bootstrap_servers", dest="bootstrap_servers",
                        required=True, metavar="HOST:PORT[,HOST:PORT]")
    parser.add_argument("--topic", dest="topics", action="append" if many_topics else "store",
                        default=[] if many_topics else "images",
                        help="the topic (default images)" + ("; repeatable" if many_topics else ""))
    parser.add_argument("--kafka-config", dest="kafka_config", action="append", default=[],
                        metavar="KEY=VALUE", help="an extra librdkafka property; repeatable")


def register(commands: Any) -> None:
    stream = commands.add_parser(
        "stream", help="drain Kafka topics into the landing zone's images folder (exactly once)",
        description="Each contiguous offset range of a partition becomes one NDJSON file "
        "images/stream/<topic>-p<partition>-e<epoch>-<first>-<last>.jsonl, written aside and "
        "renamed, then its offsets are committed. Default: drain to the end offsets seen at "
        "start and exit 0; --follow keeps running until SIGTERM/SIGINT.")
    _common(stream, many_topics=True)
    where = stream.add_mutually_exclusive_group(required=True)
    where.add_argument("--landing-dir", "--landing_dir", dest="landing_dir", type=Path)
    where.add_argument("--landing-uri", "--landing_uri", dest="landing_uri",
                       metavar="gs://BUCKET[/PREFIX]")
    stream.add_argument("--group-id", dest="group_id", default=DEFAULT_GROUP_ID)
    stream.add_argument("--follow", action="store_true", help="keep running")
    stream.add_argument("--flush-messages", dest="flush_messages", type=int,
                        default=DEFAULT_FLUSH_MESSAGES, help="messages per file at most")
    stream.add_argument("--flush-seconds", dest="flush_seconds", type=float,
                        default=DEFAULT_FLUSH_SECONDS, help="--follow: a file at least this often")
    stream.add_argument("--stall-seconds", dest="stall_seconds", type=float, default=60.0,
                        help="give up after this long without progress (default 60)")
    stream.set_defaults(handler=_usage_errors(command_stream))

    produce = commands.add_parser(
        "produce", help="send generated image records to a topic (idempotent producer)")
    _common(produce, many_topics=False)
    produce.add_argument("--from", dest="source", type=Path, required=True,
                         help="a generated data set, one delivery, or an images folder")
    produce.add_argument("--partitions", type=int, default=3,
                         help="partitions of the topic when it has to be created (default 3)")
    produce.set_defaults(handler=_usage_errors(command_produce))


def _check_broker(servers: str, topics: list[str], kafka: dict[str, str]) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    from main_image.stream.lander import quiet_logger

    admin = AdminClient({**kafka, "bootstrap.servers": servers, "logger": quiet_logger()})
    try:
        known = admin.list_topics(timeout=CONNECT_TIMEOUT_SECONDS).topics
    except KafkaException as error:
        raise UsageError(f"broker {servers} unreachable: {error.args[0].str()}") from None
    missing = [topic for topic in topics if topic not in known]
    if missing:
        raise UsageError(f"no such topic on {servers}: {', '.join(missing)}")


def command_stream(args: argparse.Namespace) -> int:
    from main_image.stream.lander import Lander, LanderError
    from main_image.stream.writer import open_landing

    try:
        kafka = parse_properties(args.kafka_config)
        config = StreamConfig(
            bootstrap_servers=args.bootstrap_servers, topics=tuple(args.topics or ["images"]),
            landing=str(args.landing_dir) if args.landing_dir else args.landing_uri,
            group_id=args.group_id, follow=args.follow, flush_messages=args.flush_messages,
            flush_seconds=args.flush_seconds, stall_seconds=args.stall_seconds, kafka=kafka)
    except StreamConfigError as error:
        raise UsageError(str(error)) from None
    _check_broker(config.bootstrap_servers, list(config.topics), kafka)
    try:
        Lander(config, open_landing(config.landing)).run()
    except LanderError as error:
        print(f"main-image: stream failed: {error}", file=sys.stderr)
        return 1
    return 0


def command_produce(args: argparse.Namespace) -> int:
    from main_image.stream.producer import ProduceError, ensure_topic, image_files, produce_files

    try:
        kafka = parse_properties(args.kafka_config)
    except StreamConfigError as error:
        raise UsageError(str(error)) from None
    if not args.source.is_dir():
        raise UsageError(f"--from: no such folder: {args.source}")
    files = image_files(args.source)
    if not files:
        raise UsageError(f"--from: no images/*.jsonl under {args.source}")
    if args.partitions < 1:
        raise UsageError("--partitions must be >= 1")
    _check_broker_reachable(args.bootstrap_servers, kafka)
    ensure_topic(args.bootstrap_servers, args.topics, args.partitions, kafka)
    try:
        result = produce_files(files, args.bootstrap_servers, args.topics, kafka)
    except ProduceError as error:
        print(f"main-image: produce failed: {error}", file=sys.stderr)
        return 1
    print(f"{result.messages}\t{args.topics}")
    return 0


def _check_broker_reachable(servers: str, kafka: dict[str, str]) -> None:
    _check_broker(servers, [], kafka)
