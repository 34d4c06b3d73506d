"""Workflow definitions: loaded from files, validated, and driven by one machine each."""
