"""Seed data: the demo clinic (``load_demo``) and the scale seeder (``load_scale``)."""

from .demo import load_demo
from .scale import load_scale

__all__ = ["load_demo", "load_scale"]
