"""Booking rules as plain functions: availability, conflicts, time zones, working hours."""
