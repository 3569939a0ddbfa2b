"""The Prefect layer, and the only one that imports Prefect: the flows (tick, deliver, on_event,
sync), serving them as deployments, listening to Prefect's events, emitting strides' own, and the
local Prefect environment. Flows are thin: the work is strides.engine's plain functions."""

from strides.domain.errors import StridesError


class FlowError(StridesError):
    """Root of the Prefect side's errors: a server that does not come up, a deployment that cannot
    be served."""
