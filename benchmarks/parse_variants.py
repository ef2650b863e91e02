"""Two ways of parsing the image lines that issue 11 asked to try, timed against today's.

    python benchmarks/parse_variants.py benchmarks/data/m/delivery-01/images/part-00000.jsonl

Today the DuckDB loader stores each line's text (`raw.images`), and `stg_images` parses it once
with `json_extract(line, [17 paths])`, a list of JSON values, then casts each value to JSON
text (`select_json_fields`). This script times, on a scratch warehouse with the pipeline's
DuckDB settings (2 threads, 8 GB, insertion order not kept):

* **struct**: `json_transform(line, '{"hotel_id": "JSON", ...}')`, one parse into a struct of
  JSON-typed fields, in place of the list;
* **loader extraction**: the loader's insert also stores the 17 JSON values beside the raw
  text, and staging casts those instead of parsing.

The staging steps write the same columns `select_json_fields` returns (the line and 17 JSON
texts); the validation after them is the same for every variant and is left out. Each step
runs `--repeats` times, in turn, and the script prints the medians, how many lines the struct
and the list read differently, and the size of the raw table stored each way.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

#: the image fields stg_images reads
FIELDS = ("hotel_id", "image_id", "cdn_url", "width", "height", "created_at", "is_active",
          "hash", "source", "channel", "uploaded_at", "mime_type", "file_size_bytes",
          "camera_make", "camera_model", "gps_lat", "gps_lon")
PATHS = "[" + ", ".join(f"'$.{field}'" for field in FIELDS) + "]"
STRUCT = "{" + ", ".join(f'"{field}": "JSON"' for field in FIELDS) + "}"
AS_TEXT_FROM_LIST = ", ".join(
    f"cast(v[{index}] as varchar) as {field}_json" for index, field in enumerate(FIELDS, 1))
#: the same, a JSON null read as SQL null (as json_transform reads it)
AS_TEXT_FROM_LIST_NULL_AS_SQL = ", ".join(
    f"nullif(cast(v[{index}] as varchar), 'null') as {field}_json"
    for index, field in enumerate(FIELDS, 1))
AS_TEXT_FROM_STRUCT = ", ".join(f"cast(v.{field} as varchar) as {field}_json" for field in FIELDS)
LIST_PARSE = f"case when json_valid(line) then json_extract(line, {PATHS}) end"
STRUCT_PARSE = f"case when json_valid(line) then json_transform(line, '{STRUCT}') end"

#: step -> statement; "load" steps write a raw table, "stage" steps read one
STEPS = {
    "load: the line (today)":
        "create or replace table raw as select 1 as file_seq, line_number, line from staged",
    "stage: list parse (today)":
        f"create or replace table stg as select line_number, line, {AS_TEXT_FROM_LIST} "
        f"from (select *, {LIST_PARSE} as v from raw)",
    "stage: struct parse":
        f"create or replace table stg as select line_number, line, {AS_TEXT_FROM_STRUCT} "
        f"from (select *, {STRUCT_PARSE} as v from raw)",
    "load: the line and its 17 JSON values":
        f"create or replace table raw_x as select 1 as file_seq, line_number, line, "
        f"{LIST_PARSE} as v from staged",
    "stage: cast the loader's values":
        f"create or replace table stg as select line_number, line, {AS_TEXT_FROM_LIST} "
        f"from raw_x",
}


def stored_bytes(con: duckdb.DuckDBPyConnection, table: str, scratch: Path) -> int:
    """The size of a database file that holds only `table`."""
    path = scratch / f"{table}.duckdb"
    con.execute(f"attach '{path}' as only_{table}")
    con.execute(f"create table only_{table}.t as select * from {table}")
    con.execute(f"detach only_{table}")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", type=Path, help="a JSON Lines file of image records")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import duckdb  # here, not at module level (pyproject.toml: TID253)

    scratch = Path(tempfile.mkdtemp(prefix="parse_variants_"))
    con = duckdb.connect(str(scratch / "scratch.duckdb"))
    con.execute("set threads = 2")
    con.execute("set memory_limit = '8GB'")
    con.execute("set preserve_insertion_order = false")
    con.execute(f"set temp_directory = '{scratch / 'spill'}'")
    # the lines split as loader.py's read_text reader splits them (its byte-order-mark and
    # trailing-line handling left out: the generator writes neither); blank lines dropped
    con.execute("""
        create table staged as
        select generate_subscripts(lines, 1) as line_number, unnest(lines) as line
        from (select string_split(content, chr(10)) as lines from read_text(?))
    """, [str(args.images)])
    con.execute("delete from staged where line = ''")
    lines = con.execute("select count(*) from staged").fetchone()[0]
    if not lines:  # read_text matches no file (or only empty ones) without an error
        con.close()
        shutil.rmtree(scratch)
        parser.error(f"no lines in {args.images} (a file or a glob of JSON Lines files)")
    print(f"{lines:,} lines of {args.images}, {args.repeats} repeats", flush=True)

    seconds: dict[str, list[float]] = {step: [] for step in STEPS}
    for repeat in range(args.repeats):
        for step, statement in STEPS.items():
            start = time.perf_counter()
            con.execute(statement)
            con.execute("checkpoint")
            seconds[step].append(time.perf_counter() - start)
        print(f"repeat {repeat + 1}/{args.repeats} done", flush=True)

    for step, values in seconds.items():
        print(f"{step:40s} median {statistics.median(values):6.2f} s "
              f"(min {min(values):.2f}, max {max(values):.2f})")
    today = statistics.median(seconds["load: the line (today)"]) + statistics.median(
        seconds["stage: list parse (today)"])
    moved = statistics.median(seconds["load: the line and its 17 JSON values"]) + statistics.median(
        seconds["stage: cast the loader's values"])
    print(f"load + stage: today {today:.2f} s, extraction in the loader {moved:.2f} s")

    differ = con.execute(f"""
        select count(*) from (
            select line_number, {AS_TEXT_FROM_LIST} from (select *, {LIST_PARSE} as v from raw)
            except all
            select line_number, {AS_TEXT_FROM_STRUCT} from (select *, {STRUCT_PARSE} as v from raw)
        )""").fetchone()[0]
    differ_but_null = con.execute(f"""
        select count(*) from (
            select line_number, {AS_TEXT_FROM_LIST_NULL_AS_SQL}
            from (select *, {LIST_PARSE} as v from raw)
            except all
            select line_number, {AS_TEXT_FROM_STRUCT} from (select *, {STRUCT_PARSE} as v from raw)
        )""").fetchone()[0]
    print(f"lines the struct reads differently: {differ:,}; once JSON null is read as SQL null: "
          f"{differ_but_null:,}")
    raw, raw_x = (stored_bytes(con, table, scratch) for table in ("raw", "raw_x"))
    print(f"raw table stored: the line {raw / 2**20:,.0f} MiB, the line and its values "
          f"{raw_x / 2**20:,.0f} MiB ({raw_x / raw:.2f}x)")
    con.close()
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
