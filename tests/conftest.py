"""Shared fixtures: a pristine agentel runtime and OTel global provider for provider-strategy tests."""

from __future__ import annotations

from typing import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.util._once import Once

from agentel._runtime import settings as _config
from agentel._runtime.provider import RUNTIME
from agentel._runtime.sampling import INACTIVE


@pytest.fixture
def fresh_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """agentel as just imported: no provider chosen yet, no global OTel provider; restored after."""
    saved_state = RUNTIME.save_state()
    saved_globals = (trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE)
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    with RUNTIME._lock:
        RUNTIME.settings = _config.from_environment()
        RUNTIME.enabled = RUNTIME.settings.enabled
        RUNTIME.capture_content = RUNTIME.settings.capture_content
        RUNTIME._tracer = None
        RUNTIME._tracer_is_final = False
        RUNTIME._own_provider = None
        RUNTIME._adopted_provider = None
        RUNTIME._own_pipeline = None
        RUNTIME._own_is_global = False
        RUNTIME._app_pipeline = None
        RUNTIME.sampling = INACTIVE
        saved_warned, RUNTIME._warned = RUNTIME._warned, set()
        saved_refused, RUNTIME.refused_provider = RUNTIME.refused_provider, None
        saved_attached = RUNTIME._attached
    try:
        yield
    finally:
        own = RUNTIME._own_provider
        RUNTIME.restore_state(saved_state)
        RUNTIME._warned, RUNTIME.refused_provider, RUNTIME._attached = saved_warned, saved_refused, saved_attached
        if own is not None:
            own.shutdown()
        trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = saved_globals
