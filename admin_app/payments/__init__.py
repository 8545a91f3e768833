"""The payment gateway the panel uses: the offline one by default (``PAYMENT_GATEWAY``)."""

from __future__ import annotations

from flask import current_app

from .gateway import (
    CardDetails,
    CardRejected,
    ChargeResult,
    ChargeStatus,
    GatewayUnavailable,
    PaymentGateway,
    RefundResult,
    SavedCard,
)


def get_gateway() -> PaymentGateway:
    """The configured gateway of the current app."""
    gateway = current_app.extensions.get("payment_gateway")
    if gateway is None:
        kind = current_app.config.get("PAYMENT_GATEWAY", "offline")
        if kind != "offline":
            raise RuntimeError(f"Unknown PAYMENT_GATEWAY {kind!r}")
        from .offline import OfflineGateway

        gateway = OfflineGateway(current_app.config["OFFLINE_GATEWAY_URL"])
        current_app.extensions["payment_gateway"] = gateway
    return gateway


__all__ = ["get_gateway", "CardDetails", "CardRejected", "ChargeResult", "ChargeStatus",
           "GatewayUnavailable", "PaymentGateway", "RefundResult", "SavedCard"]
