"""Entrypoints for members: the pages the panel's links open, without signing in."""
