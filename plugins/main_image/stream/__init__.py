"""The image stream (contract §8): Kafka topics drained into the landing zone's ``images`` folder.

Modules, one job each: ``config`` (typed settings from flags or the environment: the Kafka
variables of docs/configuration.md), ``naming`` (file names by topic, partition, epoch and
offset range), ``lines`` (a message becomes one landed line), ``writer`` (write aside, then
rename; a local folder or ``gs://``), ``lander`` (the consumer-group drain; ``state``: its
per-partition state), ``report`` (progress and the drain record), ``producer`` (generated
deliveries onto a topic), ``cli`` (``main-image stream|produce``), ``tasks`` (the Airflow entry
point), ``demo`` (``make stream-demo``, a dev tool nothing imports).
"""
