"""Registration of an Admin API family's coverage reasons, shared by the OpenAI and Anthropic
families so that each registers its reasons and classifier once per process."""

from __future__ import annotations

from scanner.coverage import REASON_CLASSIFIERS, ReasonClassifier, register_reason


def register_reasons(sentences: dict[str, str], classify: ReasonClassifier) -> None:
    """Add the reasons and the classifier once, however often this is called."""
    for code, sentence in sentences.items():
        register_reason(code, sentence)
    # Compared by module and name, so that a reloaded module does not add a second copy.
    if not any(_same_function(known, classify) for known in REASON_CLASSIFIERS):
        REASON_CLASSIFIERS.append(classify)


def _same_function(first: object, second: object) -> bool:
    return (getattr(first, "__module__", None), getattr(first, "__qualname__", None)) == (
        getattr(second, "__module__", None),
        getattr(second, "__qualname__", None),
    )
