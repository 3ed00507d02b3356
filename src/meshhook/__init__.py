"""MeshHook: a durable workflow engine with a visual DAG builder."""

__version__ = "0.1.0"
