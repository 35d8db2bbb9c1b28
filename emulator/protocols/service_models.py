"""botocore's service models, the one source of operation names and shapes for every protocol."""
from __future__ import annotations

from functools import lru_cache

import botocore.session
from botocore.model import ServiceModel


@lru_cache(maxsize=None)
def load_service_model(service: str) -> ServiceModel:
    """botocore's model of `service` as shipped with the installed botocore (read once a process:
    models are immutable, and every emulator started in a test process shares them)."""
    return botocore.session.get_session().get_service_model(service)
