"""The floor of bench/event_latency.py: an empty flow that only leaves a marker file.

In a module of its own that imports nothing but Prefect, so that its flow-run process pays
Prefect's own start-up and nothing else.
"""

from pathlib import Path

from prefect import flow


@flow(name="floor")
def floor(folder: str, marker: str) -> None:
    Path(folder, "floor").mkdir(exist_ok=True)
    Path(folder, "floor", marker).touch()
