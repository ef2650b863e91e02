"""The lander: a consumer group drains Kafka partitions into landed files, exactly once.

Per partition the lander collects consecutive messages into a batch and, when the batch is
full (``flush_messages``), old (``flush_seconds``, with ``--follow``), at the drain's end or
when the partition is revoked, writes it as one file (aside, then renamed) and only then
commits the offset after its last message. Exactly once, per crash point:

* before the rename: only a hidden temporary file exists; the next owner removes it and reads
  the range again from the committed offset.
* after the rename, before the commit: the next owner finds the file (its name is its range),
  reads exactly that range again, checks that the bytes are the same and commits. The file is
  never written with other bytes and no other range overlaps it. (Should the bytes differ, the
  partition's log was recreated: see "resets".)
* a rebalance: the revoked lander flushes and commits its batches in the revoke callback,
  before the new owner starts; one owner per partition means ranges never overlap.

Resets: offsets starting over (a memory-only broker restarted, a topic recreated) are
reported on one line each, and the partition's new log is landed under the next *epoch* (see
``naming``) so that no landed file is ever overwritten.

Draining (the default) stops at the end of each partition as first seen by the lander (the
high watermark of the first fetch: some Kafka-compatible brokers such as Tansu under-report
``ListOffsets``), then exits; ``follow`` keeps consuming until SIGTERM/SIGINT.
"""

from __future__ import annotations

import signal
import time

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from main_image.stream import naming
from main_image.stream.config import StreamConfig
from main_image.stream.lines import landed_line
from main_image.stream.report import DrainReport, Progress, stderr_progress
from main_image.stream.state import Partition, quiet_logger
from main_image.stream.writer import Landing

POLL_SECONDS = 0.2
#: Commit errors meaning "this lander no longer owns the partition".
_REBALANCED = {
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError._ASSIGNMENT_LOST,
}
#: A drain whose group gives it no partition for this long has nothing to do and stops.
IDLE_ASSIGNMENT_SECONDS = 15.0


class LanderError(RuntimeError):
    """The drain could not finish (broker lost, commit impossible); one line, exit 1."""


class Lander:
    def __init__(self, config: StreamConfig, landing: Landing, progress: Progress | None = None,
                 install_signals: bool = True):
        self.config = config
        self.install_signals = install_signals
        self.landing = landing
        self.progress = progress or stderr_progress
        self.report = DrainReport(config.group_id, config.follow)
        self.owned: dict[tuple[str, int], Partition] = {}
        self.stopping = False
        self.consumer: Consumer | None = None
        self._errors_seen: set[int] = set()

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> DrainReport:
        settings = self.config.consumer_settings()
        settings.update(logger=quiet_logger(), error_cb=self._kafka_error)
        consumer = Consumer(settings)
        self.consumer = consumer
        if self.install_signals:
            self._install_signals()
        consumer.subscribe(
            list(self.config.topics),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        self.progress(
            f"drain {self.report.drain_id}: group {self.config.group_id}, topics "
            f"{', '.join(self.config.topics)}, {'follow' if self.config.follow else 'drain'}"
        )
        try:
            self._loop(consumer)
            self._flush_all(consumer)
        except BaseException:
            self.owned.clear()  # a failed drain writes nothing more, not even on revoke
            raise
        finally:
            consumer.close()  # leaves the group: the partitions move on at once
        self._finish()
        return self.report

    def _loop(self, consumer: Consumer) -> None:
        started = last_event = time.monotonic()
        while not self.stopping:
            message = consumer.poll(POLL_SECONDS)
            now = time.monotonic()
            if message is not None:
                last_event = now
                self._handle(consumer, message)
            if self.config.follow:
                self._flush_old(consumer, now)
                continue
            if self.owned and all(p.done for p in self.owned.values()):
                return
            if not self.owned and now - max(started, last_event) > IDLE_ASSIGNMENT_SECONDS:
                self.progress("no partition assigned to this lander: nothing to drain")
                return
            if now - last_event > self.config.stall_seconds:
                raise LanderError(
                    f"no message and no end of partition for {self.config.stall_seconds:.0f}s "
                    f"from {self.config.bootstrap_servers}: broker unreachable or lost"
                )

    def _kafka_error(self, error: KafkaError) -> None:
        """librdkafka's client-level errors (broker down, ...), each kind reported once."""
        if error.code() not in self._errors_seen:
            self._errors_seen.add(error.code())
            self.progress(f"kafka: {error.str()}")

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            self.progress(f"signal {signum}: flushing and stopping")
            self.stopping = True

        try:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        except ValueError:  # not the main thread (e.g. an Airflow task runner thread)
            pass

    def _finish(self) -> None:
        for line in self.report.summary_lines():
            self.progress(line)
        location = self.report.write_record(self.landing)
        if location:
            self.progress(f"drain record: {location}")

    # --- rebalances ----------------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        committed = consumer.committed(partitions, timeout=30)
        for tp in committed:
            offset = tp.offset if tp.offset >= 0 else None
            state = Partition(tp.topic, tp.partition, self.report.stats(tp.topic, tp.partition),
                              offset)
            self._adopt_landed(state)
            self.owned[(tp.topic, tp.partition)] = state
        labels = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions)
        self.progress(f"assigned: {labels or 'nothing'}")

    def _adopt_landed(self, state: Partition) -> None:
        """What the landing zone already holds of the partition: stale temporary files go,
        landed ranges at or after the committed offset are to be reproduced byte for byte."""
        removed = self.landing.remove_temp(state.topic, state.partition)
        if removed:
            self.progress(f"{state.stats.label}: removed {removed} temporary files of a crash")
        ranges = self.landing.landed_ranges(state.topic, state.partition)
        if not ranges:
            return
        state.epoch = max(r.epoch for r in ranges)
        current = [r for r in ranges if r.epoch == state.epoch]
        start = state.committed or 0
        state.landed = {r.first: r for r in current if r.first >= start}
        if state.committed is None:
            self.progress(
                f"{state.stats.label}: the group has no committed offset but the landing zone "
                f"holds offsets {current[0].first}..{current[-1].last} (epoch {state.epoch}): "
                "the group's offsets were lost (a broker restart or a new group id); reading "
                "from the earliest offset and checking it against the landed files"
            )

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            state = self.owned.pop((tp.topic, tp.partition), None)
            if state is not None and state.lines and state.forced is None:
                self._flush(consumer, state)
        if partitions:
            self.progress(f"revoked: {', '.join(f'{t.topic}[{t.partition}]' for t in partitions)}")

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Lost (session expired): another lander may own them already; write nothing."""
        for tp in partitions:
            self.owned.pop((tp.topic, tp.partition), None)
        self.progress(f"lost: {', '.join(f'{t.topic}[{t.partition}]' for t in partitions)}")

    # --- messages ----------------------------------------------------------------------------

    def _handle(self, consumer: Consumer, message: Message) -> None:
        state = self.owned.get((message.topic(), message.partition()))
        error = message.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                self.progress(f"kafka: {error.str()}")
                if error.fatal():
                    raise LanderError(f"fatal Kafka error: {error.str()}")
            elif state is not None and not self._first_seen(consumer, state):
                self._at_end(consumer, state, message.offset())
            return
        if state is None or state.done:
            return  # not ours (any more), or beyond the drain's end: read again next time
        if self._first_seen(consumer, state):
            return
        offset = message.offset()
        if state.end is not None and offset >= state.end:
            self._at_end(consumer, state, offset)
            return
        expected = state.next_offset if state.next_offset is not None else state.committed
        if expected is not None and offset < expected:
            self._restart(consumer, state, f"expected offset {expected}, the broker delivered "
                          f"{offset}", flush_batch=True)
            return
        state.next_offset = offset + 1
        self._append(consumer, state, offset, landed_line(message.value()))
        if state.end is not None and offset + 1 >= state.end:
            self._at_end(consumer, state, offset + 1)

    def _first_seen(self, consumer: Consumer, state: Partition) -> bool:
        """The first fetch of the partition: its end for this drain and the lag before; True
        when it shows that the partition's log was recreated (the partition restarts)."""
        if state.seen:
            return False
        low, high = consumer.get_watermark_offsets(state.tp, cached=True)
        if high < 0:
            return False
        state.seen = True
        if not self.config.follow:
            state.end = high
        start = state.committed if state.committed is not None else low
        state.stats.lag_before = max(high - max(start, 0), 0)
        landed_to = max((r.last for r in state.landed.values()), default=-1)
        if landed_to >= high:
            why = f"the landing zone holds offsets up to {landed_to} but the log ends at {high}"
        elif state.committed is not None and state.committed > high:
            why = f"the committed offset {state.committed} is beyond the log's end {high}"
        else:
            return False
        self._restart(consumer, state, why, flush_batch=False)
        return True

    def _restart(self, consumer: Consumer, state: Partition, why: str, flush_batch: bool) -> None:
        """The partition's log was recreated: land it again from its start, as a new epoch."""
        if flush_batch and state.lines and state.forced is None:
            self._flush(consumer, state)  # read from the old log: it belongs to the old epoch
        self._drop_batch(state)
        state.stats.resets += 1
        state.epoch += 1
        state.landed, state.committed, state.next_offset = {}, None, None
        state.seen, state.end = False, None  # the next fetch tells the new log's end
        self.progress(
            f"OFFSET RESET on {state.stats.label}: {why}; the partition's log was recreated "
            "(e.g. a memory-only broker restarted or the topic was recreated): landing it again "
            f"from its first offset as epoch {state.epoch}, no landed file is overwritten"
        )
        consumer.seek(TopicPartition(state.topic, state.partition, OFFSET_BEGINNING))

    def _append(self, consumer: Consumer, state: Partition, offset: int, line: bytes) -> None:
        if state.forced is not None and offset > state.forced.last:
            self._restart(consumer, state, f"offset {offset} skips past the end of the landed "
                          f"file {state.forced.name}", flush_batch=False)
            return
        if state.lines and state.forced is None and offset in state.landed:
            self._flush(consumer, state)
        if not state.lines:
            state.forced = state.landed.get(offset)
            state.first, state.started = offset, time.monotonic()
        state.lines.append(line)
        state.last = offset
        if state.forced is not None:
            if offset == state.forced.last:
                self._flush(consumer, state)
        elif len(state.lines) >= self.config.flush_messages:
            self._flush(consumer, state)

    def _at_end(self, consumer: Consumer, state: Partition, offset: int) -> None:
        if self.config.follow or state.done:
            return
        if state.end is None or offset >= state.end:
            if state.forced is not None and state.lines:
                self._restart(consumer, state, f"the log ends inside the landed file "
                              f"{state.forced.name}", flush_batch=False)
                return
            if state.lines:
                self._flush(consumer, state)
            state.done = True
            _low, high = consumer.get_watermark_offsets(state.tp, cached=True)
            state.stats.lag_after = max(high - offset, 0) if high >= 0 else None
            consumer.pause([state.tp])

    def _flush_old(self, consumer: Consumer, now: float) -> None:
        for state in list(self.owned.values()):
            old = now - state.started >= self.config.flush_seconds
            if state.lines and state.forced is None and old:
                self._flush(consumer, state)

    def _flush_all(self, consumer: Consumer) -> None:
        for state in list(self.owned.values()):
            if state.lines and state.forced is None:
                self._flush(consumer, state)
            if state.stats.lag_after is None:
                _low, high = consumer.get_watermark_offsets(state.tp, cached=True)
                done_to = state.committed if state.committed is not None else None
                if high >= 0 and done_to is not None:
                    state.stats.lag_after = max(high - done_to, 0)

    # --- files and commits ---------------------------------------------------------------------

    def _flush(self, consumer: Consumer, state: Partition) -> None:
        """Write the batch as one file (aside, renamed), then commit the offset after it.

        A batch that reproduces a landed range is compared with the file instead: the same
        bytes are only committed; other bytes mean the log was recreated (the partition
        restarts as a new epoch and nothing is written)."""
        assert state.first is not None and state.last is not None
        data = b"".join(line + b"\n" for line in state.lines)
        target = naming.LandedRange(state.topic, state.partition, state.epoch, state.first,
                                    state.last)
        if state.forced is not None:
            if state.forced != target or self.landing.read(
                naming.STREAM_FOLDER, target.name
            ) != data:
                self._restart(consumer, state, f"offsets {target.first}..{target.last} differ "
                              f"from the landed file {state.forced.name}", flush_batch=False)
                return
            state.stats.relanded_files += 1
        else:
            self.landing.write(naming.STREAM_FOLDER, target.name, data)
        if not self._commit(consumer, state, target.last + 1):
            return
        state.stats.messages += len(state.lines)
        state.stats.files += 1
        state.stats.bytes += len(data)
        if state.stats.first_offset is None:
            state.stats.first_offset = target.first
        state.stats.last_offset = target.last
        state.landed.pop(target.first, None)
        self._drop_batch(state)

    def _drop_batch(self, state: Partition) -> None:
        state.lines, state.first, state.last, state.forced = [], None, None, None

    def _commit(self, consumer: Consumer, state: Partition, offset: int) -> bool:
        """Commit the offset after a landed file; False when the partition was taken away
        meanwhile (a rebalance): the next owner finds the file by its name and commits it."""
        try:
            consumer.commit(
                offsets=[TopicPartition(state.topic, state.partition, offset)], asynchronous=False
            )
        except KafkaException as error:
            kafka_error = error.args[0]
            if kafka_error.code() in _REBALANCED:
                self.progress(f"{state.stats.label}: commit of offset {offset} refused "
                              f"({kafka_error.name()}): the partition moved to another lander, "
                              "which commits the landed file")
                self.owned.pop((state.topic, state.partition), None)
                self._drop_batch(state)
                return False
            raise LanderError(
                f"{state.stats.label}: commit of offset {offset} failed ({kafka_error.str()}); "
                "the landed file is kept and committed by the next drain"
            ) from None
        state.committed = offset
        return True
