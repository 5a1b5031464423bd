"""Typed doors to the health and reflection stubs, for tests on sync and aio channels.

typeshed's ``HealthStub`` declares no methods (grpc sets ``Check`` and ``Watch`` in
``__init__``) and its ``ServerReflectionStub`` accepts only sync channels, so the tests
reach both through these, typed ``Any``.
"""

from __future__ import annotations

from typing import Any, cast

import grpc
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2_grpc


def health_stub(channel: grpc.Channel | grpc.aio.Channel) -> Any:
    return health_pb2_grpc.HealthStub(channel)


def reflection_stub(channel: grpc.Channel | grpc.aio.Channel) -> Any:
    return reflection_pb2_grpc.ServerReflectionStub(cast(grpc.Channel, channel))
