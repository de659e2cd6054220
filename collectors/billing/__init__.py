"""Billing collectors: FOCUS exports, the common spend format, and each cloud's native export."""
