"""The SQL of the dashboard's pages, on the reporting marts (the same SQL on both engines).

Filters are inlined as literals: dates come in as ``date`` objects and sources are quoted, so
no user text reaches the SQL unescaped. ``{reporting}.`` is replaced by the source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Filters:
    """The sidebar's choice: a date range (inclusive) and the sources (empty: all)."""

    start: date
    end: date
    sources: tuple[str, ...] = ()

    def days(self, column: str) -> str:
        return f"{column} between date '{self.start.isoformat()}' and date '{self.end.isoformat()}'"

    def source_in(self, column: str = "source") -> str:
        if not self.sources:
            return "true"
        return f"{column} in ({', '.join(quote(source) for source in self.sources)})"


DATE_BOUNDS = """
    select min(day) as first_day, max(day) as last_day from (
        select report_date as day from {reporting}.rpt_main_images_daily
        union all
        select processed_date as day from {reporting}.rpt_images_processed_daily
        union all
        select search_date as day from {reporting}.rpt_search_terms_daily
    ) as days
"""

SOURCES = """
    select distinct source from {reporting}.rpt_images_processed_daily order by source
"""


def run_metrics(filters: Filters) -> str:
    return f"""
        select report_date, runs, images_processed, hotels_with_images, main_images_new,
            main_images_updated, main_images_deleted, main_images_changed, rejected_records
        from {{reporting}}.rpt_main_images_daily
        where {filters.days("report_date")}
        order by report_date
    """


def images_processed(filters: Filters) -> str:
    return f"""
        select processed_date, source, channel, mime_type, records_received, records_valid,
            records_rejected, new_images, images_known_by_content
        from {{reporting}}.rpt_images_processed_daily
        where {filters.days("processed_date")} and {filters.source_in()}
        order by processed_date, source, channel, mime_type
    """


def rejected_records(filters: Filters) -> str:
    return f"""
        select report_date, feed, source, rejection_reason, rejected_records, files
        from {{reporting}}.rpt_rejected_records_daily
        where {filters.days("report_date")} and {filters.source_in()}
        order by report_date, feed, source, rejection_reason
    """


def search_terms(filters: Filters, limit: int = 20) -> str:
    return f"""
        select search_term, sum(searches) as searches, sum(distinct_users) as user_days
        from {{reporting}}.rpt_search_terms_daily
        where {filters.days("search_date")}
        group by search_term
        order by searches desc, search_term
        limit {int(limit)}
    """


def searches_per_day(filters: Filters) -> str:
    return f"""
        select search_date, sum(searches) as searches
        from {{reporting}}.rpt_search_terms_daily
        where {filters.days("search_date")}
        group by search_date
        order by search_date
    """


def reported_images(filters: Filters, limit: int = 50) -> str:
    return f"""
        select image_id, hotel_id, search_term, reports, distinct_reporters, first_reported_at,
            last_reported_at, is_current_main_image
        from {{reporting}}.rpt_reported_images_by_search_term
        where cast(last_reported_at as date) >= date '{filters.start.isoformat()}'
            and cast(first_reported_at as date) <= date '{filters.end.isoformat()}'
        order by reports desc, image_id, coalesce(search_term, '')
        limit {int(limit)}
    """


def top_cameras(limit: int = 10) -> str:
    return f"""
        select camera_rank, camera_make, camera_model, images, hotels
        from {{reporting}}.rpt_camera_models
        where camera_rank <= {int(limit)}
        order by camera_rank
    """


IMAGE_FORMATS = """
    select mime_type, images, images_with_size, total_file_size_bytes, avg_file_size_bytes,
        share_of_images
    from {reporting}.rpt_image_formats
    order by images desc, mime_type
"""


def uploads_per_day(filters: Filters) -> str:
    return f"""
        select upload_date, uploads, distinct_sources, uploaded_bytes
        from {{reporting}}.rpt_uploads_daily
        where {filters.days("upload_date")}
        order by upload_date
    """


DUPLICATE_GROUPS = """
    select count(distinct representative_image_id) as duplicate_groups,
        count(*) as images_in_groups
    from {reporting}.rpt_duplicate_images
"""


def scoring_shadow(filters: Filters) -> str:
    """The shadow report's runs in the date range (by their as_of), the latest first;
    sample_hotels is a JSON array (text) on both engines, parsed by the page."""
    return f"""
        select invocation_seq, run_id, as_of, scoring_version, shadow_scoring_version,
            hotels_compared, hotels_changed, candidates_compared, score_delta_mean,
            score_delta_min, score_delta_p10, score_delta_p50, score_delta_p90, score_delta_max,
            sample_hotels
        from {{reporting}}.rpt_scoring_shadow
        where {filters.days("as_of")}
        order by invocation_seq desc
    """


#: every run's shadow comparison, whatever the dates (an empty page says how to get one)
SCORING_SHADOW_RUNS = """
    select count(*) as shadow_runs, min(as_of) as first_as_of, max(as_of) as last_as_of
    from {reporting}.rpt_scoring_shadow
"""


def all_queries(filters: Filters) -> Sequence[str]:
    """Every query of the page (the tests run them all on both engines)."""
    return (
        DATE_BOUNDS, SOURCES, run_metrics(filters), images_processed(filters),
        rejected_records(filters), search_terms(filters), searches_per_day(filters),
        reported_images(filters), top_cameras(), IMAGE_FORMATS, uploads_per_day(filters),
        DUPLICATE_GROUPS, scoring_shadow(filters), SCORING_SHADOW_RUNS,
    )
