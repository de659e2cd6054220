"""Renderers of an audit run: the JSON result, and the HTML and terminal reports drawn from it.

The JSON result built by `reports.json_report.build_result` is the one source every renderer
reads, so a stored result can be rendered again without running the audit.
"""

from reports.json_report import load_result

__all__ = ["load_result"]
