"""Instrument definitions per (day, venue)."""
