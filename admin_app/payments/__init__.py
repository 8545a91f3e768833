"""The payment gateway the panel uses (``PAYMENT_GATEWAY``): the offline one by default, or
``stripe`` (``STRIPE_SECRET_KEY``, and ``STRIPE_API_BASE`` for a Stripe-compatible server)."""

from __future__ import annotations

from flask import current_app

from .gateway import (
    CardDetails,
    CardRejected,
    CardSetup,
    ChargeResult,
    ChargeStatus,
    GatewayRefused,
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
        timeout = float(current_app.config.get("PROCESSOR_TIMEOUT", 20))
        if kind == "stripe":
            from .stripe_gateway import StripeGateway

            gateway = StripeGateway(secret_key=current_app.config.get("STRIPE_SECRET_KEY"),
                                    api_base=current_app.config.get("STRIPE_API_BASE") or None,
                                    timeout=timeout)
        elif kind == "offline":
            from .offline import OfflineGateway

            gateway = OfflineGateway(current_app.config["OFFLINE_GATEWAY_URL"], timeout=timeout)
        else:
            raise RuntimeError(f"Unknown PAYMENT_GATEWAY {kind!r}")
        current_app.extensions["payment_gateway"] = gateway
    return gateway


__all__ = ["get_gateway", "CardDetails", "CardRejected", "ChargeResult", "ChargeStatus",
           "GatewayRefused", "GatewayUnavailable", "PaymentGateway", "RefundResult",
           "SavedCard", "CardSetup"]
