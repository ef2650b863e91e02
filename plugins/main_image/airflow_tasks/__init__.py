"""The pipeline DAG's building blocks (imported by dags/*.py; cheap to import, nothing connects).

* ``register``: the ``register_attempt`` sensor (a new attempt per try, waits for other runs);
* ``dbt_stages``: the dbt project as a few ``dbt build --select`` tasks (Cosmos), with a
  per-node result table in each task log;
* ``freshness``: ``dbt source freshness`` as a warning that never fails the run;
* ``notes``: the summary a user sees first (top of a task log, the DAG run's note).
"""
