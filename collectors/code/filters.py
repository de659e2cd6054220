"""detect-secrets filters applied to every AI key candidate: detect-secrets' own heuristics plus
shadowmap's placeholder test and inline allow comment.

Filters take the arguments detect-secrets injects by name (`secret`, `line`, `plugin`, `context`,
`filename`) and return True to drop a candidate, so they run through detect-secrets'
`call_function_with_arguments` exactly as its own filters do.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from detect_secrets.filters import allowlist, heuristic
from detect_secrets.util.code_snippet import CodeSnippet
from detect_secrets.util.inject import call_function_with_arguments, get_injectable_variables

from collectors.code.keyformats import load_catalogue, longest_run, shannon_entropy

# `# shadowmap: allow` on the key's line silences it; `shadowmap: allow-next-line` on the line
# above does the same for the next line. Any comment syntax works because only the words count.
ALLOW_COMMENT = re.compile(r"shadowmap:\s*allow\b(?!-)")
ALLOW_NEXT_LINE_COMMENT = re.compile(r"shadowmap:\s*allow-next-line\b")

# A body with a run this long of one character is typed, not generated (`sk-xxxxxxxx`).
MAX_REPEATED_RUN = 5


def is_placeholder(secret: str, plugin: Any = None) -> bool:
    """Drop keys whose body (after the format's prefix) is a placeholder: a filler word, a long
    run of one character, a sequence, or too little entropy to have been generated."""
    catalogue = load_catalogue()
    body = secret
    for key_format in getattr(plugin, "formats", ()):
        if key_format.pattern.fullmatch(secret):
            body = key_format.body(secret)
            break

    lowered = body.lower()
    if any(word in lowered for word in catalogue.placeholder_words):
        return True
    if longest_run(body) >= MAX_REPEATED_RUN:
        return True
    if heuristic.is_sequential_string(body):
        return True
    return shannon_entropy(body) < catalogue.min_body_entropy


def is_allowed_inline(line: str, context: CodeSnippet) -> bool:
    """Drop keys on a line carrying `shadowmap: allow`, or below a `shadowmap: allow-next-line`."""
    if ALLOW_COMMENT.search(line):
        return True
    return bool(ALLOW_NEXT_LINE_COMMENT.search(context.previous_line))


# detect-secrets' own filters that fit AI keys. Left out on purpose: `is_indirect_reference`,
# which would drop `os.getenv("OPENAI_API_KEY", "sk-...")`, a common way keys leak as defaults,
# and `is_likely_id_string`, which detect-secrets itself skips for regex plugins.
FILTERS: tuple[Callable[..., bool], ...] = (
    heuristic.is_sequential_string,
    heuristic.is_potential_uuid,
    heuristic.is_templated_secret,
    heuristic.is_prefixed_with_dollar_sign,
    allowlist.is_line_allowlisted,
    is_allowed_inline,
    is_placeholder,
)


# detect-secrets' settings attach the injectable argument names when they load a filter; these
# filters are loaded here, so they get the same attribute here.
for _filter in FILTERS:
    _filter.injectable_variables = set(get_injectable_variables(_filter))  # type: ignore[attr-defined]


def is_filtered_out(filename: str, secret: str, plugin: Any, line: str, context: CodeSnippet) -> bool:
    """Run every filter the way detect-secrets does; True when any of them drops the candidate."""
    arguments = {"filename": filename, "secret": secret, "plugin": plugin, "line": line, "context": context}
    return any(call_function_with_arguments(filter_function, **arguments) for filter_function in FILTERS)
