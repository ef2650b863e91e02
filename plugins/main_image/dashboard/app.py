"""The analysts' dashboard (Streamlit): `main-image dashboard` or `make dashboard`.

Reads the reporting marts only (source.py). Pages: runs and main-image changes, images
processed by source/channel/type, cameras and formats, search terms and reported images,
rejected records. The sidebar filters by date range and source.
"""

from __future__ import annotations

import os
from datetime import timedelta

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


def main() -> None:
    st.set_page_config(page_title="Main-image analytics", layout="wide")
    st.title("Main-image platform: analytics")
    try:
        filters = sidebar_filters()
        tabs = st.tabs(["Runs", "Images processed", "Cameras & formats", "Search & reports",
                        "Rejected records"])
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
    except WarehouseBusy as busy:
        fetch.clear()
        st.warning(f"Busy: {busy}")
    except DashboardError as error:
        fetch.clear()
        st.error(str(error))


if __name__ == "__main__":
    main()


