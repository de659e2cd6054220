"""Coverage reasons for Google Cloud spend that reaches no owner, registered with the core.

Partner models on Vertex AI (Claude, Llama, Mistral) are billed as their own marketplace
services, and their rows often carry no request labels. A partner-model line that reaches no
owner ends at `partner_model_shared_project` when its project is shared by several teams (the
project cannot name one), otherwise at `partner_model_unlabelled`. The project is known only when
the line's resource ID is a project or Vertex AI asset that Cloud Asset Inventory listed.

A line whose only tags are the export's system labels (`system:<key>`, set by Google) ends at
`system_labels_only` rather than the core's `no_owner_tag`: no team labelled that spend.
"""

from __future__ import annotations

from scanner.config import Policy
from scanner.coverage import REASON_CLASSIFIERS, register_reason
from scanner.model import Asset, SpendLine

PARTNER_MODEL_SHARED_PROJECT = "partner_model_shared_project"
PARTNER_MODEL_UNLABELLED = "partner_model_unlabelled"
SYSTEM_LABELS_ONLY = "system_labels_only"

REASON_SENTENCES = {
    PARTNER_MODEL_SHARED_PROJECT: (
        "A partner model on Vertex AI, billed as its own marketplace service without an owner label, "
        "was used in a project that several teams share, so the project cannot name the owner."
    ),
    PARTNER_MODEL_UNLABELLED: (
        "A partner model on Vertex AI, billed as its own marketplace service, carries no owner label, "
        "and no project owner label or mapping names an owner."
    ),
    SYSTEM_LABELS_ONLY: (
        "The spend carries only system labels, which Google sets and which name no owner; "
        "no team label, project owner label or mapping names an owner."
    ),
}


def is_partner_model_line(line: SpendLine) -> bool:
    from collectors.gcp.catalogue import load_catalogue

    return line.provider == "gcp" and load_catalogue().partner_model(line.service) is not None


def project_teams(asset: Asset | None) -> list[str]:
    """Return the owners that the project (or the project of a Vertex AI resource) serves."""
    if asset is None:
        return []
    return list(asset.attributes.get("teams") or asset.attributes.get("project_teams") or [])


def has_system_labels_only(line: SpendLine) -> bool:
    from collectors.gcp.billing_groups import SYSTEM_PREFIX

    return line.provider == "gcp" and bool(line.tags) and all(key.startswith(SYSTEM_PREFIX) for key in line.tags.values)


def classify(line: SpendLine, asset: Asset | None, policy: Policy) -> str | None:
    if is_partner_model_line(line):
        if len(project_teams(asset)) > 1:
            return PARTNER_MODEL_SHARED_PROJECT
        return PARTNER_MODEL_UNLABELLED
    if has_system_labels_only(line):
        return SYSTEM_LABELS_ONLY
    return None


def register() -> None:
    """Add the reasons and the classifier once, however often this is called."""
    for code, sentence in REASON_SENTENCES.items():
        register_reason(code, sentence)
    if classify not in REASON_CLASSIFIERS:
        REASON_CLASSIFIERS.append(classify)


register()
