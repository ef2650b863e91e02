"""Each contract §6 invariant on hand-made scenarios (the property test covers random histories)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from analytics_fixtures import assert_duplicate_images_current
from conftest import PipelineHarness, read_jsonl
from main_image.dbt_runner import run_dbt
from main_image.engines.duckdb import warehouse
from main_image.pipeline import begin_attempt
from main_image.runs import RunParameters, dbt_variables
from reference import Inputs, apply_changes, select_main_images

DAY = date(2024, 7, 1)


def image(image_id: int, hotel_id: int, **fields: object) -> str:
    record = {
        "hotel_id": hotel_id,
        "image_id": image_id,
        "cdn_url": f"https://cdn.example.com/{image_id}.jpg",
        "width": 1920,
        "height": 1080,
        "created_at": "2024-01-01",
        "is_active": True,
        "hash": "0123456789abcdef",
    }
    record.update(fields)
    return json.dumps(record)


def tags(image_id: int, *pairs: tuple[str, float], version: str = "v1-0-0") -> str:
    return json.dumps(
        {
            "image_id": image_id,
            "tags": [{"tag": tag, "version": version, "probability": p} for tag, p in pairs],
        }
    )


def override(hotel_id: int, image_id: int | None, set_at: str = "2024-06-30T10:00:00Z") -> str:
    return json.dumps(
        {"hotel_id": hotel_id, "image_id": image_id, "set_by": "ops", "set_at": set_at}
    )


def die_after_the_change_log(harness: PipelineHarness, params: RunParameters, seq: int) -> None:
    """dbt builds up to the change log, then the worker dies: no snapshot, nothing completed."""
    run_dbt(
        ["build", "--select", "+fct_main_image_changes", "--exclude-resource-type", "test"],
        variables=dbt_variables(params, seq),
        warehouse=harness.warehouse,
        target="duckdb",
        reuse_manifest=True,
    )


def change_count(harness: PipelineHarness) -> int:
    return harness.query("select count(*) from marts.fct_main_image_changes")[0][0]


MALFORMED = {
    "images": [
        image(1001, 1),
        '{"hotel_id": 1, "image_id": "a5e7a661"}',
        image(1002, 1, hash="0123456789abcdef0123"),
        image(1003, 1, cdn_url="cdn.example.com/x.jpg"),
        image(1004, 1, created_at="2024-02-30"),
        image(1005, 0),
        image(1006, 1, width=10.5),
        image(1007, 1, is_active="yes"),
        "{truncated",
        "",
        "[1, 2]",
    ],
    "image_tags": [
        tags(1001, ("bedroom", 0.9)),
        tags(1001),
        tags(1001, ("bedroom", 1.5)),
        tags(1001, ("bedroom", 0.5), version="4.0"),
        tags(1001, ("", 0.5)),
        json.dumps(
            {
                "image_id": 1001,
                "tags": [
                    {"tag": "bar", "version": "v1-0-0", "probability": 0.5},
                    {"tag": "gym", "version": "v2-0-0", "probability": 0.5},
                ],
            }
        ),
        json.dumps({"image_id": 1001, "tags": "bedroom"}),
    ],
    "obiq_scores": [
        json.dumps({"image_id": 1001, "obiq_score": 0.7, "version": "v1"}),
        json.dumps({"image_id": 1001, "obiq_score": 1.7, "version": "v1"}),
        json.dumps({"image_id": 1001, "obiq_score": 0.7, "version": ""}),
    ],
    "main_images": [
        json.dumps({"key": {"hotel_id": 1}, "value": None}),
        json.dumps({"key": {"hotel_id": "x"}, "value": None}),
        json.dumps({"key": {"hotel_id": 2}, "value": {"image_id": 5, "cdn_url": "https://a/b"}}),
    ],
    "admin_overrides": [
        override(1, 1001),
        override(1, None),
        override(1, 1001, set_at="yesterday"),
        json.dumps({"hotel_id": 1, "image_id": 1001, "set_by": "", "set_at": "2024-06-30"}),
    ],
    "user_events": [
        json.dumps(
            {
                "event_id": "e1",
                "event_type": "click",
                "occurred_at": "2024-06-30T10:00:00Z",
                "hotel_id": 1,
                "image_id": 1001,
                "search_term": "rome",
                "user_id": "u1",
            }
        ),
        json.dumps(
            {"event_id": "e2", "event_type": "purchase", "occurred_at": "2024-06-30", "hotel_id": 1}
        ),
    ],
}
EXPECTED_REJECTED = {
    "images": 10,
    "image_tags": 5,
    "obiq_scores": 2,
    "main_images": 2,
    "admin_overrides": 2,
    "user_events": 1,
}


def test_conservation_every_line_is_staged_or_rejected(harness: PipelineHarness) -> None:
    files = harness.write_files("d1", MALFORMED)
    result = harness.run(files, DAY)
    assert result.metrics["rejected_records"] == EXPECTED_REJECTED
    for feed, lines in MALFORMED.items():
        per_file = harness.query(
            f"""
            select
                manifest.file_seq,
                manifest.line_count,
                (select count(*) from raw.{feed} as raw_lines
                    where raw_lines.file_seq = manifest.file_seq),
                (select count(*) from staging.stg_{feed} as staged
                    where staged.file_seq = manifest.file_seq and staged.rejection_reason is null),
                (select count(*) from marts.fct_rejected_records as rejected
                    where rejected.file_seq = manifest.file_seq and rejected.feed = '{feed}')
            from raw.load_manifest as manifest
            where manifest.feed = '{feed}'
            """
        )
        assert len(per_file) == 1
        _, line_count, raw_lines, valid, rejected = per_file[0]
        assert line_count == raw_lines == len(lines)
        assert valid + rejected == len(lines), feed
        assert rejected == EXPECTED_REJECTED[feed], feed


def test_every_rejected_line_keeps_its_text_and_a_reason(harness: PipelineHarness) -> None:
    files = harness.write_files("d1", MALFORMED)
    harness.run(files, DAY)
    rows = harness.query(
        "select feed, line_number, rejection_reason, line from marts.fct_rejected_records"
    )
    for feed, line_number, reason, line in rows:
        assert reason.startswith("invalid_") or reason == "multiple_tag_versions"
        assert line == MALFORMED[feed][line_number - 1]


def test_rerun_and_redelivery_change_nothing(harness: PipelineHarness) -> None:
    files = harness.write_files("d1", {"images": [image(1001, 1), image(1002, 2)]})
    first = harness.run(files, DAY)
    assert first.metrics["main_images"] == {"new": 2, "updated": 0, "deleted": 0}
    snapshot = harness.snapshot()

    rerun = harness.run({}, DAY)
    copy = harness.write_files("d1-again", {"images": [image(1001, 1), image(1002, 2)]})
    redelivered = harness.run(copy, DAY)

    assert [loaded.skipped for loaded in redelivered.loaded] == [True]
    for result in (rerun, redelivered):
        assert read_jsonl(result.outputs.changes) == []
        assert result.metrics["main_images"] == {"new": 0, "updated": 0, "deleted": 0}
    assert harness.snapshot() == snapshot
    assert change_count(harness) == 2


def test_late_tags_deactivation_and_overrides(harness: PipelineHarness) -> None:
    harness.dbt_command = "run"  # six runs: the data tests are exercised elsewhere
    day1 = harness.write_files(
        "d1",
        {"images": [image(1001, 1, width=800, height=600), image(1002, 1, width=1000, height=800)]},
    )
    harness.run(day1, DAY)
    assert harness.snapshot()[1][0] == 1002  # larger image wins without tags

    late_tags = harness.write_files(
        "d2", {"image_tags": [tags(1001, ("swimming-pool", 0.9)), tags(1002, ("bathroom", 0.9))]}
    )
    result = harness.run(late_tags, DAY + timedelta(days=1))
    assert result.metrics["main_images"]["updated"] == 1
    assert harness.snapshot()[1][0] == 1001  # the pool beats the bathroom

    pinned = harness.write_files("d3", {"admin_overrides": [override(1, 1002)]})
    harness.run(pinned, DAY + timedelta(days=2))
    assert harness.snapshot()[1][0] == 1002
    assert harness.query(
        "select selection_source from marts.fct_main_image_snapshot where hotel_id = 1"
    ) == [("admin",)]

    older_override = harness.write_files(
        "d4", {"admin_overrides": [override(1, None, set_at="2024-01-01T00:00:00Z")]}
    )
    harness.run(older_override, DAY + timedelta(days=3))
    assert harness.snapshot()[1][0] == 1002  # a late record with an older set_at loses

    deactivated = harness.write_files("d5", {"images": [image(1002, 1, is_active=False)]})
    harness.run(deactivated, DAY + timedelta(days=4))
    assert harness.snapshot()[1][0] == 1001  # override image gone: automatic selection

    everything_gone = harness.write_files("d6", {"images": [image(1001, 1, is_active=False)]})
    result = harness.run(everything_gone, DAY + timedelta(days=5))
    assert result.metrics["main_images"] == {"new": 0, "updated": 0, "deleted": 1}
    assert harness.snapshot() == {}
    assert read_jsonl(result.outputs.changes) == [{"key": {"hotel_id": 1}, "value": None}]


def test_a_newer_main_images_record_is_the_current_state(harness: PipelineHarness) -> None:
    day1 = harness.write_files("d1", {"images": [image(1001, 1)]})
    harness.run(day1, DAY)
    correction = json.dumps(
        {"key": {"hotel_id": 1}, "value": {"image_id": 4242, "cdn_url": "https://x/4242"}}
    )
    result = harness.run(harness.write_files("d2", {"main_images": [correction]}), DAY)
    # the frontend now shows 4242, which is no candidate: the pipeline puts 1001 back
    changes = harness.query(
        "select change_type, previous_image_id, image_id from marts.fct_main_image_changes "
        "where run_id = ?",
        [result.run_id],
    )
    assert changes == [("updated", 4242, 1001)]


def test_crash_after_landing_then_rerun_converges(harness: PipelineHarness) -> None:
    day1 = harness.write_files("d1", {"images": [image(1001, 1), image(2001, 2)]})
    harness.run(day1, DAY)
    # the worker dies right after landing day 2: nothing transformed, nothing published
    day2 = harness.write_files(
        "d2", {"images": [image(1001, 1, is_active=False), image(1002, 1), image(3001, 3)]}
    )
    begin_attempt(harness.warehouse, RunParameters(run_id="crashed", as_of=DAY), day2)

    healed = harness.run({}, DAY + timedelta(days=1))
    assert healed.metrics["main_images"] == {"new": 1, "updated": 1, "deleted": 0}
    assert harness.snapshot() == {
        1: (1002, "https://cdn.example.com/1002.jpg"),
        2: (2001, "https://cdn.example.com/2001.jpg"),
        3: (3001, "https://cdn.example.com/3001.jpg"),
    }


def test_crash_after_the_change_log_emits_no_duplicates(harness: PipelineHarness) -> None:
    day1 = harness.write_files("d1", {"images": [image(1001, 1), image(2001, 2)]})
    first = harness.run(day1, DAY)
    day2 = harness.write_files("d2", {"images": [image(1002, 1, created_at="2024-06-01")]})
    params = RunParameters(run_id="crashed", as_of=DAY)
    seq, _ = begin_attempt(harness.warehouse, params, day2)
    # dbt builds up to the change log, then the worker dies (no snapshot, nothing completed)
    die_after_the_change_log(harness, params, seq)
    assert change_count(harness) == 3

    healed = harness.run({}, DAY)
    assert change_count(harness) == 3  # the crashed attempt's change is not emitted again
    assert harness.snapshot()[1] == (1002, "https://cdn.example.com/1002.jpg")
    # the change of the crashed attempt is exported with the next run, so nothing is lost
    exported = read_jsonl(healed.outputs.changes)
    assert [record["key"]["hotel_id"] for record in exported] == [1]
    replayed: dict[int, tuple[int, str]] = {}
    for result in (first, healed):
        apply_changes(replayed, result.outputs.changes.read_text().splitlines())
    assert replayed == harness.snapshot()


def test_days_without_runs_give_the_daily_snapshot(tmp_path) -> None:
    feeds = {
        "images": [
            # hotel 1: an old image (freshness 0 for good) against a recent one that ages:
            # the recent one wins until its freshness falls below 0.3, then the old one does
            image(1001, 1, created_at="2010-01-01"),
            image(1002, 1, created_at="2024-06-01"),
            # hotel 2: an image from the future (freshness 1 until its date) against a recent one
            image(2001, 2, created_at="2024-07-20", width=800, height=600),
            image(2002, 2, created_at="2024-06-01", width=1000, height=800),
            # hotel 3: two images that age together: never recomputed for the date alone
            image(3001, 3, created_at="2023-01-01"),
            image(3002, 3, created_at="2022-01-01"),
        ],
        "image_tags": [tags(1001, ("bathroom", 0.9))],
    }
    dates = [DAY + timedelta(days=offset) for offset in (0, 8, 20, 400, 3650)]

    daily = PipelineHarness(
        root=tmp_path / "daily",
        warehouse=tmp_path / "daily" / "warehouse.duckdb",
        dbt_command="run",
    )
    daily.run(daily.write_files("d1", feeds), dates[0])
    for as_of in dates[1:]:
        daily.run({}, as_of)
        expected = select_main_images(Inputs(**feeds), as_of)
        assert daily.snapshot() == {
            hotel: (selection.image_id, selection.cdn_url) for hotel, selection in expected.items()
        }, as_of
        if as_of == dates[1]:
            # 8 days later at most the hotels mixing ageing and constant freshness are
            # recomputed (hotel 3's images age together), and only when their winner was near
            # enough a tie for the date to move it (int_hotel_selection_margins)
            scope = daily.query("select hotel_id, scope_reason from staging.int_hotels_in_scope")
            assert set(scope) <= {(1, "as_of"), (2, "as_of")}
    assert daily.snapshot()[1][0] == 1001
    updates = daily.query(
        "select hotel_id from marts.fct_main_image_changes where change_type = 'updated'"
    )
    assert (1,) in updates  # the winner did move with the date alone

    gap = PipelineHarness(
        root=tmp_path / "gap", warehouse=tmp_path / "gap" / "warehouse.duckdb", dbt_command="run"
    )
    gap.run(gap.write_files("d1", feeds), dates[0])
    gap.run({}, dates[-1])
    assert gap.snapshot() == daily.snapshot()


def test_pinned_tag_version_recomputes_every_hotel(harness: PipelineHarness) -> None:
    lines = {
        "images": [image(1001, 1), image(1002, 1)],
        "image_tags": [
            tags(1001, ("swimming-pool", 0.9), version="v1-0-0"),
            tags(1002, ("bathroom", 0.9), version="v1-0-0"),
            tags(1001, ("bathroom", 0.9), version="v2-0-0"),
            tags(1002, ("building", 0.9), version="v2-0-0"),
        ],
    }
    harness.run(harness.write_files("d1", lines), DAY)
    assert harness.snapshot()[1][0] == 1002  # v2 is active: building beats bathroom
    harness.run({}, DAY, tag_version_pin="v1-0-0")
    assert harness.snapshot()[1][0] == 1001  # pinned v1: swimming-pool
    expected = select_main_images(
        Inputs(images=lines["images"], image_tags=lines["image_tags"]), DAY, "v1-0-0"
    )
    assert expected[1].image_id == 1001


def test_unknown_scoring_version_fails_before_publishing(harness: PipelineHarness) -> None:
    from main_image.dbt_runner import DbtError

    with pytest.raises(DbtError, match="scoring_version"):
        harness.run(
            harness.write_files("d1", {"images": [image(1001, 1)]}), DAY, scoring_version="v9"
        )
    rows = harness.query("select selection_completed_at, exported_at from raw.pipeline_runs")
    assert rows == [(None, None)]
    with warehouse.connect(harness.warehouse) as con:
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    assert "fct_main_image_changes" not in tables


def test_full_refresh_reaches_a_hotel_whose_image_moved_away(harness: PipelineHarness) -> None:
    harness.dbt_command = "run"
    harness.run(harness.write_files("d1", {"images": [image(1001, 1), image(2001, 2)]}), DAY)
    # the image moves to hotel 2 in a run that recomputes everything (e.g. a new scoring setup)
    moved = harness.write_files("d2", {"images": [image(1001, 2, created_at="2024-06-01")]})
    result = harness.run(moved, DAY, full_refresh=True)
    assert result.metrics["main_images"] == {"new": 0, "updated": 1, "deleted": 1}
    assert harness.snapshot() == {2: (1001, "https://cdn.example.com/1001.jpg")}


def test_duplicate_groups_follow_the_images_run_by_run(harness: PipelineHarness) -> None:
    """rpt_duplicate_images recomputes the hotels in scope only: a group must vanish when its
    images stop sharing a hash, leave with a moved image, and keep the rows of hotels out of
    scope; after each run it equals the groups computed from scratch."""
    shared, other = "00000000000000aa", "00000000000000bb"
    history = [
        # hotel 1: a group of three; hotel 2: a group of two; hotel 3: no group
        [image(1001, 1, hash=shared), image(1002, 1, hash=shared, width=4000),
         image(1003, 1, hash=shared), image(2001, 2, hash=other), image(2002, 2, hash=other),
         image(3001, 3, hash=shared)],
        # hotel 1 only: 1002 changes its hash (the representative moves), hotel 2 out of scope
        [image(1002, 1, hash=other, width=4000)],
        # 1003 moves to hotel 3 (its group there forms; hotel 1's group of 1001 alone vanishes)
        [image(1003, 3, hash=shared)],
        # hotel 2's group vanishes: 2002 is deactivated
        [image(2002, 2, hash=other, is_active=False)],
    ]
    sizes = []
    for number, lines in enumerate(history):
        harness.run(harness.write_files(f"d{number}", {"images": lines}), DAY + timedelta(number))
        assert_duplicate_images_current(harness)
        sizes.append(harness.query(
            "select hotel_id, count(*) from reporting.rpt_duplicate_images group by 1 order by 1"
        ))
    assert sizes == [
        [(1, 3), (2, 2)],
        [(1, 2), (2, 2)],
        [(2, 2), (3, 2)],
        [(3, 2)],
    ]


def test_changes_of_an_unfinished_attempt_are_revisited(harness: PipelineHarness) -> None:
    """An attempt under another configuration wrote changes, then died: the next run (back on
    the old configuration) must revisit those hotels, not trust the dead attempt's picks."""
    lines = {
        "images": [image(1001, 1), image(1002, 1)],
        "image_tags": [
            tags(1001, ("swimming-pool", 0.9), version="v1-0-0"),
            tags(1001, ("bathroom", 0.9), version="v2-0-0"),
            tags(1002, ("building", 0.9), version="v2-0-0"),
        ],
    }
    harness.run(harness.write_files("d1", lines), DAY)
    assert harness.snapshot()[1][0] == 1002  # v2 active: building beats bathroom
    params = RunParameters(run_id="pinned-and-dead", as_of=DAY, tag_version_pin="v1-0-0")
    seq, _ = begin_attempt(harness.warehouse, params, {})
    die_after_the_change_log(harness, params, seq)
    assert harness.query(
        "select image_id from marts.fct_main_image_changes where run_id = 'pinned-and-dead'"
    ) == [(1001,)]

    harness.run({}, DAY)  # unpinned again, nothing new landed
    assert harness.snapshot()[1][0] == 1002
    published = harness.query(
        "select image_id from marts.fct_main_image_changes order by invocation_seq desc limit 1"
    )
    assert published == [(1002,)]


def event(event_id: str, event_type: str, occurred_at: str, image_id: int, user: str) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": event_type,
            "occurred_at": occurred_at,
            "hotel_id": 1,
            "image_id": image_id,
            "search_term": "rome",
            "user_id": user,
        }
    )


ENGAGEMENT = """
    select event_date, hotel_id, image_id, impressions, clicks, reports, distinct_users
    from reporting.rpt_image_engagement_daily
    order by all
"""


def test_engagement_report_recomputes_the_days_of_new_events(harness: PipelineHarness) -> None:
    """The report is incremental: the days that received events since the last completed run
    are recomputed from all their events, also after a crash; other days are kept. It equals
    a rebuild from every event."""
    harness.dbt_command = "run"
    first = [
        event("e1", "impression", "2024-06-29T10:00:00Z", 1001, "u1"),
        event("e2", "click", "2024-06-30T10:00:00Z", 1001, "u1"),
        event("e3", "impression", "2024-06-30T11:00:00+02:00", 1002, "u2"),
    ]
    harness.run(harness.write_files("d1", {"images": [image(1001, 1)], "user_events": first}), DAY)
    second = [
        event("e4", "impression", "2024-06-30T12:00:00Z", 1001, "u2"),
        event("e5", "report", "2024-07-01T08:00:00Z", 1001, "u3"),
        "{not json",
    ]
    params = RunParameters(run_id="crashed", as_of=DAY + timedelta(days=1))
    day2 = harness.write_files("d2", {"user_events": second})
    seq, _ = begin_attempt(harness.warehouse, params, day2)
    run_dbt(  # the report is built, then the worker dies before the run completes
        ["run", "--select", "+rpt_image_engagement_daily"],
        variables=dbt_variables(params, seq),
        warehouse=harness.warehouse,
        target="duckdb",
        reuse_manifest=True,
    )
    third = [event("e6", "click", "2024-07-01T09:00:00Z", 1002, "u3")]
    harness.run(harness.write_files("d3", {"user_events": third}), DAY + timedelta(days=1))

    rebuilt = harness.query(
        """
        select
            cast(occurred_at as date), hotel_id, image_id,
            count(*) filter (where event_type = 'impression'),
            count(*) filter (where event_type = 'click'),
            count(*) filter (where event_type = 'report'),
            count(distinct user_id)
        from staging.stg_user_events
        where rejection_reason is null and image_id is not null
        group by all
        order by all
        """
    )
    assert harness.query(ENGAGEMENT) == rebuilt
    assert [(str(row[0]), row[2], row[3], row[4], row[5]) for row in rebuilt] == [
        ("2024-06-29", 1001, 1, 0, 0),
        ("2024-06-30", 1001, 1, 1, 0),
        ("2024-06-30", 1002, 1, 0, 0),
        ("2024-07-01", 1001, 0, 0, 1),
        ("2024-07-01", 1002, 0, 1, 0),
    ]
