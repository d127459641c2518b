"""Blocks shared by several papers."""
