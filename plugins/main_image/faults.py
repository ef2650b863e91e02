"""Fault injection for drills and tests: stop a run at a named point, as a crash would.

``MAIN_IMAGE_FAULT_AT=<point>[:<action>]`` (unset in production: every call is one dictionary
lookup). The points, in the order a run reaches them:

* ``land-<n>``        after the n-th landing file of the attempt was loaded (1-based)
* ``landed``          every file landed and the watermark recorded, before dbt
* ``dbt-<n>``         after dbt finished its n-th node (a kill in the middle of ``dbt build``)
* ``selected``        dbt done and the selection marked completed, before publishing
* ``export-written-<name>``  the hidden copy of ``changes``/``snapshot``/``metrics`` written
* ``export-renamed-<name>``  that file renamed into place (``export-renamed-metrics``: the
  publication is whole but the attempt is not yet marked exported)
* ``serving``         the attempt exported, before the serving copy is written (with
  ``--database-url``): the next publication copies what it missed

Actions: ``exit`` (default; ``os._exit(137)``, like SIGKILL: no cleanup, no flush), ``raise``
(``InjectedFault``, a failed run: in-process tests use it) and ``pause=<seconds>`` (sleep, then
go on: a window for the tests of concurrent runs). docs/design.md, "What happens when things go
wrong", says what each point leaves behind and how the next run heals it.
"""

from __future__ import annotations

import os
import sys
import time

ENV_VAR = "MAIN_IMAGE_FAULT_AT"


class InjectedFault(RuntimeError):
    """Raised at the configured point when the action is ``raise``."""


def reached(point: str) -> None:
    """Called by the pipeline at each named point; does nothing unless the point is configured."""
    configured = os.environ.get(ENV_VAR)
    if not configured:
        return
    name, _, action = configured.partition(":")
    if name != point:
        return
    print(f"main-image: fault injected at {point} ({action or 'exit'})", file=sys.stderr,
          flush=True)
    if action.startswith("pause="):
        time.sleep(float(action.removeprefix("pause=")))
    elif action == "raise":
        raise InjectedFault(f"fault injected at {point}")
    else:
        os._exit(137)
