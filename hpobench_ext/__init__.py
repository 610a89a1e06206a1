"""Adapter placeholder (work in progress)."""
