"""Workflow definitions: files in `workflows/` loaded and validated (errors say file, line and
cause), named guards, questionnaire scoring, and the engine: one `transitions` machine per workflow
version, never one per row. It knows nothing of the database session's other tables' rules, of
other domains or of Flask."""
