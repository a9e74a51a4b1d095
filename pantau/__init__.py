"""Pantau: news monitoring for trafficking and violence against women and children."""

__version__ = "0.1.0"
