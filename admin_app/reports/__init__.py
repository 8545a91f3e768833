"""The numbers a clinic manager runs the business by: Home's figures and the Reports pages.

Plain functions over the billing tables (no request state): each report computes its figures
per calendar month of the clinic's time zone (``calendar``), the worker keeps them in the
summary table (``summary``), and the pages read them back (``series``).
"""
