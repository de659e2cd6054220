"""shadowmap: find the AI usage an organisation cannot attribute, and say why."""

__version__ = "0.1.0"
