"""Receivers that write the audit log for events Django itself signals (filled in below)."""
