"""The dbt nodes a build can leave out because their feeds brought nothing new (issue 11: "when
dbt runs, only the nodes that have work").

An incremental model of this project reads only the rows of files landed after the last
completed attempt (``new_raw_lines``, ``file_seq_after``, ``file_seq_after_completed_run``,
``event_days_to_rebuild``) and inserts, merges or deletes only what those rows touch. So when
every raw feed upstream of it received no file since the last completed attempt, and every
model upstream of it is such a model too, its build changes nothing: leaving it out gives the
same tables. Its data tests check the rows written since the last completed run
(macros/utils/test_scope.sql): there are none, so they are left out with it. A test that must
run (one of its parents is busy) keeps its quiet parents in the build, because dbt would leave
it out with them.

Everything else runs: tables and views (rebuilt from the state each run, and what reads them),
models under a source this module does not know, and every node when the caller cannot vouch
for the rest (``transform_skip.idle_feeds`` says when it can: the previous attempt completed,
the same scoring parameters and dbt project, no full refresh). The registry sources
(``raw.pipeline_runs``, ``raw.load_manifest``) only give the incremental models their
watermarks, so they do not make a model busy.

The task format (images, tags and main images only) leaves the chains of scores, overrides,
user events and stream drains idle on every run: a dozen models and their tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Sources that hold the run registry, not feed data (read for watermarks).
REGISTRY_SOURCES: frozenset[str] = frozenset({"pipeline_runs", "load_manifest"})


@dataclass(frozen=True)
class Node:
    """What the decision needs of one node of dbt's graph."""

    name: str
    resource_type: str  # model, test, seed, source, snapshot, …
    materialized: str | None = None
    parents: tuple[str, ...] = ()
    source_name: str | None = None  # for sources: e.g. "raw"


def graph_of(manifest: Any) -> dict[str, Node]:
    """The nodes and sources of a parsed dbt manifest (``dbt parse``'s result)."""
    graph: dict[str, Node] = {}
    for unique_id, node in manifest.nodes.items():
        graph[unique_id] = Node(
            name=node.name,
            resource_type=str(node.resource_type),
            materialized=getattr(node.config, "materialized", None),
            parents=tuple(getattr(node.depends_on, "nodes", ())),  # a seed has none
        )
    for unique_id, source in manifest.sources.items():
        graph[unique_id] = Node(name=source.name, resource_type="source",
                                source_name=source.source_name)
    return graph


def nodes_without_work(graph: Mapping[str, Node], idle_feeds: Iterable[str]) -> list[str]:
    """The unique ids of the models and data tests whose build can change nothing, given the
    feeds that received no file since the last completed attempt (sorted)."""
    idle = frozenset(idle_feeds)
    memo: dict[str, bool] = {}

    def quiet(unique_id: str) -> bool:
        """Whether the node's output cannot change in this build."""
        if unique_id in memo:
            return memo[unique_id]
        memo[unique_id] = False  # a cycle (none in dbt) would keep the node busy
        node = graph.get(unique_id)
        if node is None:
            answer = False
        elif node.resource_type == "source":
            answer = node.source_name == "raw" and (
                node.name in idle or node.name in REGISTRY_SOURCES)
        elif node.resource_type == "seed":
            answer = True  # the same project (fingerprint) has the same seeds
        elif node.resource_type == "model":
            answer = node.materialized == "incremental" and all(
                quiet(parent) for parent in node.parents)
        elif node.resource_type == "test":
            answer = bool(node.parents) and all(
                quiet(parent) and graph[parent].resource_type != "source"
                for parent in node.parents)
        else:
            answer = False
        memo[unique_id] = answer
        return answer

    left_out = {unique_id for unique_id, node in graph.items()
                if node.resource_type in ("model", "test") and quiet(unique_id)}
    # dbt leaves out with an excluded model every test that depends on it: a test that must run
    # (another parent is busy) keeps its parents in the build, where they change nothing
    kept = True
    while kept:
        kept = False
        for unique_id, node in graph.items():
            if node.resource_type == "test" and unique_id not in left_out:
                for parent in set(node.parents) & left_out:
                    left_out.discard(parent)
                    kept = True
    return sorted(left_out)


def exclude_arguments(graph: Mapping[str, Node], unique_ids: Iterable[str]) -> list[str]:
    """dbt arguments that leave these nodes out of a build (``--exclude`` by node name)."""
    names = sorted({graph[unique_id].name for unique_id in unique_ids})
    return ["--exclude", *names] if names else []
