"""Thin Prefect orchestration over strides.engine; retries sit on the tasks that do I/O."""
