"""Business operations: one module per verb (refund_payment, cancel_subscription, ...)."""
