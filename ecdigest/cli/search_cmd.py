"""Placeholder: filled in by its issue in this session."""

from __future__ import annotations
