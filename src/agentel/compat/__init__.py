"""Compatibility layers that let code written for other tracing APIs run on agentel."""
