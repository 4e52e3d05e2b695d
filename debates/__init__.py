"""Debates: phased diverge/converge deliberation (its own issue; nothing here yet)."""
