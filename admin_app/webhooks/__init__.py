"""Entrypoints for payment processors: their webhooks, settling what they report."""
