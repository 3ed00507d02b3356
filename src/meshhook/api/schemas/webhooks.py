"""Request and response bodies of ``api/webhooks.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.services import webhooks


class Received(BaseModel):
    run_id: UUID


class WebhookOut(BaseModel):
    url: str = Field(description="{MESHHOOK_PUBLIC_URL}/hooks/{hook id}/{path}")
    methods: list[str]
    path: str
    target: dict[str, Any] | None = Field(
        description="{version, alias} a request runs now; null while nothing is published."
    )
    signing: str = Field(description="hmac, jwt or none")
    created_at: datetime


class RotateBody(RequestBody):
    grace_seconds: int = Field(
        default=0,
        ge=0,
        le=webhooks.MAX_GRACE_SECONDS,
        description="How long the old id keeps working (default 0: it stops now).",
    )


class DeliveryOut(BaseModel):
    at: datetime
    method: str
    status: int
    run_id: UUID | None
    latency_ms: float
    client: str | None
    failure: str | None = Field(description="The check that refused the request (4xx).")


class DeliveriesOut(BaseModel):
    items: list[DeliveryOut]


class TestBody(RequestBody):
    body: Any = Field(default=None, description="The JSON body to send (default {}).")


class TestOut(BaseModel):
    status: int
    run_id: UUID | None
    detail: str | None
