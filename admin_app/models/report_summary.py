"""The reports' summary: every report's figures per calendar month (in the clinic's time
zone), kept by the worker (``reports.summary``) so that Home and the Reports pages read a few
hundred rows instead of the whole history.

A figure is one number: ``metric`` (e.g. ``mrr_new``) for one month, one plan (``plan_id`` 0
means all plans together), one currency (``""`` for counts of people or things) and one
``dimension`` (what a payment paid for, a service id, or ``""``). Money is in minor units.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime

ALL_PLANS = 0


class ReportMonth(db.Model):
    """A month of the summary: when its figures were computed, and the moment they describe
    (the month's end, or the moment of the computation for the month still running)."""

    __tablename__ = "report_month"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-03"
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class ReportFigure(db.Model):
    __tablename__ = "report_figure"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)
