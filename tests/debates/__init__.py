"""Tests for the debates app."""
