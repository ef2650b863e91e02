"""The analysts' dashboard (Streamlit): `main-image dashboard` or `make dashboard`.

Reads the reporting marts only (source.py). Pages: runs and main-image changes, images
processed by source/channel/type, cameras and formats, search terms and reported images,
rejected records, and the scoring shadow report (what a shadow scoring version would change).
The sidebar filters by date range and source.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from main_image.dashboard import queries
from main_image.dashboard.source import (
    DashboardError,
    ReportingSource,
    SourceConfig,
    WarehouseBusy,
    open_source,
)

#: How long a query's result is reused (MAIN_IMAGE_DASHBOARD_CACHE_SECONDS, default 60).
CACHE_SECONDS = int(os.environ.get("MAIN_IMAGE_DASHBOARD_CACHE_SECONDS", "60"))


@st.cache_resource
def reporting_source() -> ReportingSource:
    return open_source(SourceConfig.from_env())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def fetch(sql: str) -> pd.DataFrame:
    return reporting_source().query(sql)


def sidebar_filters() -> queries.Filters:
    bounds = fetch(queries.DATE_BOUNDS)
    first, last = bounds.iloc[0]["first_day"], bounds.iloc[0]["last_day"]
    if pd.isna(first):
        st.info("The reporting marts are empty: run the pipeline first (`make run`).")
        st.stop()
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    picked = st.sidebar.date_input(
        "Date range", value=(first, last), min_value=first - timedelta(days=365),
        max_value=last + timedelta(days=365),
    )
    start, end = (picked if isinstance(picked, tuple) and len(picked) == 2 else (first, last))
    sources = fetch(queries.SOURCES)["source"].tolist()
    chosen = st.sidebar.multiselect("Source", sources, help="empty: every source")
    st.sidebar.caption(f"Reading {reporting_source().description}; cached {CACHE_SECONDS} s.")
    return queries.Filters(start=start, end=end, sources=tuple(chosen))


def total(frame: pd.DataFrame, column: str) -> int:
    return int(frame[column].sum()) if not frame.empty else 0


def page_runs(filters: queries.Filters) -> None:
    runs = fetch(queries.run_metrics(filters))
    left, middle, right = st.columns(3)
    left.metric("Runs", total(runs, "runs"))
    middle.metric("Main images changed", total(runs, "main_images_changed"))
    right.metric("Rejected records (all feeds)", total(runs, "rejected_records"))
    daily = runs.set_index("report_date")
    st.subheader("Run metrics per day")
    st.line_chart(daily[["images_processed", "hotels_with_images"]])
    st.subheader("Main-image changes per day")
    st.line_chart(daily[["main_images_new", "main_images_updated", "main_images_deleted"]])


def page_images(filters: queries.Filters) -> None:
    images = fetch(queries.images_processed(filters))
    left, middle, right = st.columns(3)
    left.metric("Image records received", total(images, "records_received"))
    middle.metric("New images", total(images, "new_images"))
    right.metric("Already known by content", total(images, "images_known_by_content"))
    st.subheader("Valid and rejected image records per day")
    st.line_chart(images.groupby("processed_date")[["records_valid", "records_rejected"]].sum())
    for dimension in ("source", "channel", "mime_type"):
        st.subheader(f"Records by {dimension.replace('_', ' ')}")
        st.bar_chart(images.groupby(dimension)[["records_valid", "records_rejected"]].sum())
    uploads = fetch(queries.uploads_per_day(filters))
    st.subheader("Uploads per day")
    st.line_chart(uploads.set_index("upload_date")[["uploads"]])


def page_cameras_and_formats() -> None:
    st.caption("Current images (latest state, active); not filtered by date or source.")
    cameras = fetch(queries.top_cameras())
    st.subheader("Top 10 camera models")
    if not cameras.empty:
        cameras["camera"] = cameras["camera_make"] + " " + cameras["camera_model"]
        st.bar_chart(cameras.set_index("camera")[["images"]], horizontal=True)
    st.dataframe(cameras, hide_index=True)
    formats = fetch(queries.IMAGE_FORMATS)
    st.subheader("Image formats")
    st.bar_chart(formats.set_index("mime_type")[["images"]])
    st.dataframe(formats, hide_index=True)
    duplicates = fetch(queries.DUPLICATE_GROUPS)
    st.metric("Duplicate groups (same hash within a hotel)", total(duplicates, "duplicate_groups"))


def page_search(filters: queries.Filters) -> None:
    per_day = fetch(queries.searches_per_day(filters))
    st.metric("Searches", total(per_day, "searches"))
    st.subheader("Searches per day")
    st.line_chart(per_day.set_index("search_date")[["searches"]])
    terms = fetch(queries.search_terms(filters))
    st.subheader("Top search terms")
    st.bar_chart(terms.set_index("search_term")[["searches"]], horizontal=True)
    st.subheader("Most reported images by search term")
    st.dataframe(fetch(queries.reported_images(filters)), hide_index=True)


def page_rejected(filters: queries.Filters) -> None:
    rejected = fetch(queries.rejected_records(filters))
    st.metric("Rejected records", total(rejected, "rejected_records"))
    st.subheader("By source and reason")
    st.bar_chart(
        rejected.pivot_table(index="source", columns="rejection_reason",
                             values="rejected_records", aggfunc="sum", fill_value=0)
    )
    st.dataframe(
        rejected.groupby(["feed", "source", "rejection_reason"], as_index=False)[
            ["rejected_records", "files"]].sum(),
        hide_index=True,
    )


#: what to do when rpt_scoring_shadow has no row (docs/scoring.md, "Compare it in shadow")
SHADOW_HOWTO = (
    "Run the pipeline with a shadow scoring version to get one: "
    "`make run SHADOW_SCORING_VERSION=v2` (the demo), "
    "`main-image run ... --shadow-scoring-version v2`, or the DAG param "
    "`shadow_scoring_version`. Each such run adds a row; nothing of the shadow version is "
    "published."
)
SAMPLE_COLUMNS = ["hotel_id", "active_image_id", "active_cdn_url", "active_score",
                  "shadow_image_id", "shadow_cdn_url", "shadow_score"]


def shadow_sample(text: object) -> pd.DataFrame:
    """A run's sample_hotels (a JSON array as text; NULL or 'null' when no hotel changes)."""
    rows = json.loads(text) if isinstance(text, str) and text.strip() else None
    return pd.DataFrame(rows or [], columns=SAMPLE_COLUMNS)


def run_label(row: pd.Series) -> str:
    """A run's name on the page: its invocation (attempts of one run_id differ) and run_id."""
    return f"#{int(row['invocation_seq'])} {row['run_id']}"


def delta_distribution_chart(runs: pd.DataFrame) -> alt.LayerChart:
    """Per run: min-max as a rule, p10-p90 as a bar, the median as a tick, the mean as a dot."""
    order = runs["run"].tolist()
    base = alt.Chart(runs).encode(
        y=alt.Y("run:N", sort=order, title=None, axis=alt.Axis(labelLimit=240)))
    axis = alt.X("score_delta_min:Q", title="score delta (shadow - active) per image")
    return alt.layer(
        base.mark_rule().encode(x=axis, x2="score_delta_max:Q"),
        base.mark_bar(size=14, opacity=0.6).encode(x="score_delta_p10:Q", x2="score_delta_p90:Q"),
        base.mark_tick(thickness=3, size=18, color="black").encode(x="score_delta_p50:Q"),
        base.mark_point(filled=True, color="firebrick").encode(
            x="score_delta_mean:Q",
            tooltip=["run", "score_delta_min", "score_delta_p10", "score_delta_p50",
                     "score_delta_mean", "score_delta_p90", "score_delta_max"],
        ),
    )


def page_scoring_shadow(filters: queries.Filters) -> None:
    st.caption("Runs with a shadow scoring version: what switching the active version would "
               "change on the run's hotels in scope (overrides applied to both). Filtered by "
               "the runs' as_of date, not by source.")
    runs = fetch(queries.scoring_shadow(filters))
    if runs.empty:
        every = fetch(queries.SCORING_SHADOW_RUNS)
        count = int(every.iloc[0]["shadow_runs"]) if not every.empty else 0
        if count:
            first = pd.Timestamp(every.iloc[0]["first_as_of"]).date()
            last = pd.Timestamp(every.iloc[0]["last_as_of"]).date()
            st.info(f"No shadow comparison in the chosen dates: {count} run(s) have one, "
                    f"as of {first} to {last}; widen the date range.")
        else:
            st.info(f"No shadow comparison yet. {SHADOW_HOWTO}")
        return
    runs = runs.assign(
        run=runs.apply(run_label, axis=1),
        hotels_compared=runs["hotels_compared"].astype("int64"),
        hotels_changed=runs["hotels_changed"].astype("int64"),
        candidates_compared=runs["candidates_compared"].astype("int64"),
        as_of=pd.to_datetime(runs["as_of"]).dt.date,
    )
    as_of = dict(zip(runs["run"], runs["as_of"], strict=True))
    chosen = st.selectbox("Run", runs["run"].tolist(), index=0, help="latest first",
                          format_func=lambda label: f"{label} (as of {as_of[label]})")
    run = runs[runs["run"] == chosen].iloc[0]
    compared, changed = int(run["hotels_compared"]), int(run["hotels_changed"])
    cols = st.columns(4)
    cols[0].metric("Versions (active vs shadow)",
                   f"{run['scoring_version']} vs {run['shadow_scoring_version']}")
    cols[1].metric("Hotels compared", compared)
    cols[2].metric("Main image would change", changed)
    cols[3].metric("Share that would change", f"{changed / compared:.1%}" if compared else "-")
    st.subheader("Hotels compared and hotels whose main image would change, per run")
    st.bar_chart(runs.set_index("run")[["hotels_compared", "hotels_changed"]], stack=False,
                 sort=False, horizontal=True)
    st.subheader("Score deltas per run (shadow minus active, per candidate image)")
    st.caption("Line: min to max; bar: p10 to p90; black tick: median; red dot: mean.")
    st.altair_chart(delta_distribution_chart(runs))
    st.dataframe(
        runs[["run", "as_of", "scoring_version", "shadow_scoring_version", "hotels_compared",
              "hotels_changed", "candidates_compared", "score_delta_mean", "score_delta_min",
              "score_delta_p10", "score_delta_p50", "score_delta_p90", "score_delta_max"]],
        hide_index=True,
    )
    sample = shadow_sample(run["sample_hotels"])
    st.subheader(f"Sample of the hotels that would change ({len(sample)} of {changed})")
    if sample.empty:
        st.write("No hotel's main image would change in this run.")
        return
    st.dataframe(
        sample, hide_index=True,
        column_config={
            # the file name shown, the whole URL linked
            "active_cdn_url": st.column_config.LinkColumn("active image URL",
                                                          display_text=r".*/([^/]+)$"),
            "shadow_cdn_url": st.column_config.LinkColumn("shadow image URL",
                                                          display_text=r".*/([^/]+)$"),
            "active_image_id": st.column_config.NumberColumn(format="%d"),
            "shadow_image_id": st.column_config.NumberColumn(format="%d"),
        },
    )


def main() -> None:
    st.set_page_config(page_title="Main-image analytics", layout="wide")
    st.title("Main-image platform: analytics")
    try:
        filters = sidebar_filters()
        tabs = st.tabs(["Runs", "Images processed", "Cameras & formats", "Search & reports",
                        "Rejected records", "Scoring shadow"])
        with tabs[0]:
            page_runs(filters)
        with tabs[1]:
            page_images(filters)
        with tabs[2]:
            page_cameras_and_formats()
        with tabs[3]:
            page_search(filters)
        with tabs[4]:
            page_rejected(filters)
        with tabs[5]:
            page_scoring_shadow(filters)
    except WarehouseBusy as busy:
        fetch.clear()
        st.warning(f"Busy: {busy}")
    except DashboardError as error:
        fetch.clear()
        st.error(str(error))


if __name__ == "__main__":
    main()


