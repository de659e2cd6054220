"""The AI vendor catalogue: its own samples, whole-token matching and its format checks."""

from __future__ import annotations

import pytest

from collectors.expense.catalogue import (
    APP_STORE,
    CATEGORIES,
    CONFIDENCES,
    DIRECT,
    PROCESSOR,
    CatalogueError,
    load_catalogue,
    normalise_tokens,
    parse_catalogue,
)

CATALOGUE = load_catalogue()
MATCH_SAMPLES = CATALOGUE.samples["match"]
NO_MATCH_SAMPLES = CATALOGUE.samples["no_match"]


@pytest.mark.parametrize("sample", MATCH_SAMPLES, ids=[sample["descriptor"] + (" / " + sample["memo"] if sample.get("memo") else "") for sample in MATCH_SAMPLES])
def test_descriptor_sample_names_vendor(sample):
    match = CATALOGUE.match(sample["descriptor"], sample.get("memo", ""))
    assert match is not None
    assert match.vendor.id == sample["vendor"]
    assert match.kind == sample["kind"]


@pytest.mark.parametrize("descriptor", NO_MATCH_SAMPLES)
def test_look_alike_names_no_vendor(descriptor):
    assert CATALOGUE.match(descriptor) is None


def test_catalogue_has_sixty_vendors_in_every_category():
    assert len(CATALOGUE.vendors) >= 60
    assert {vendor.category for vendor in CATALOGUE.vendors.values()} == set(CATEGORIES)


def test_every_vendor_has_a_match_sample():
    sampled = {sample["vendor"] for sample in MATCH_SAMPLES}
    assert set(CATALOGUE.vendors) - sampled == set()


def test_lead_look_alikes_are_samples():
    for descriptor in ("AIR CANADA", "OPENTABLE", "HERTZ RENT-A-CAR", "THAI KITCHEN", "OPEN STREET PARKING", "MAILCHIMP", "CLAUDE'S BISTRO"):
        assert descriptor in NO_MATCH_SAMPLES


def test_tokens_drop_accents_and_punctuation():
    assert normalise_tokens("Claude's Café") == ["CLAUDE", "S", "CAFE"]
    assert normalise_tokens("OPENAI *CHATGPT SUBSCR") == ["OPENAI", "CHATGPT", "SUBSCR"]
    assert normalise_tokens("APPLE.COM/BILL") == ["APPLE", "COM", "BILL"]


def test_pattern_never_matches_inside_a_word():
    assert CATALOGUE.match("OPENAIRE MARKET") is None
    assert CATALOGUE.match("MIDJOURNEYS END PUB") is None


def test_anchored_pattern_only_starts_the_merchant():
    assert CATALOGUE.match("X.AI LLC").vendor.id == "xai"
    assert CATALOGUE.match("PAYPAL *X AI").vendor.id == "xai"
    assert CATALOGUE.match("BOX X AI") is None


def test_processor_prefix_sets_channel():
    match = CATALOGUE.match("STRIPE*ELEVENLABS")
    assert match.channel == PROCESSOR
    assert match.channel_name == "Stripe"
    assert CATALOGUE.match("ELEVENLABS.IO").channel == DIRECT


def test_vendor_named_by_processor_word_is_direct():
    assert CATALOGUE.match("GOOGLE GEMINI").channel == DIRECT
    assert CATALOGUE.match("GOOGLE *GEMINI").vendor.id == "google"


def test_app_store_charge_needs_its_memo():
    assert CATALOGUE.match("APPLE.COM/BILL", "") is None
    assert CATALOGUE.match("APPLE.COM/BILL", "iCloud+ 50GB") is None
    match = CATALOGUE.match("APPLE.COM/BILL", "ChatGPT Plus")
    assert match.vendor.id == "openai"
    assert match.channel == APP_STORE
    assert match.channel_name == "Apple App Store"
    assert match.confidence == "medium"


def test_platform_charge_needs_an_ai_product_in_memo():
    assert CATALOGUE.match("GITHUB, INC.", "") is None
    assert CATALOGUE.match("GITHUB, INC.", "Team plan, 12 users") is None
    match = CATALOGUE.match("GITHUB, INC.", "Copilot Business seats")
    assert match.vendor.id == "github-copilot"
    assert match.channel == DIRECT
    assert match.channel_name == "GitHub"
    assert match.confidence == "medium"


def test_platform_products_are_its_own():
    # Firefly is Adobe's product, so a GitHub memo that names it is not read as AI.
    assert CATALOGUE.match("GITHUB, INC.", "Firefly credits") is None


def test_sample_confidences_are_known():
    for sample in MATCH_SAMPLES:
        assert CATALOGUE.match(sample["descriptor"], sample.get("memo", "")).confidence in CONFIDENCES


def test_bare_processor_memo_match_is_low_confidence():
    match = CATALOGUE.match("PAYPAL *", "Midjourney Standard Plan")
    assert match.vendor.id == "midjourney"
    assert match.confidence == "low"


def test_processor_with_merchant_ignores_memo():
    assert CATALOGUE.match("PAYPAL *EBAY", "ChatGPT Plus") is None


def test_medium_pattern_gives_medium_confidence():
    assert CATALOGUE.match("GRAMMARLY").confidence == "medium"
    assert CATALOGUE.match("MIDJOURNEY INC.").confidence == "high"


def test_longest_pattern_decides_kind():
    assert CATALOGUE.match("OPENAI API").kind == "api_credit"
    assert CATALOGUE.match("OPENAI CHATGPT").kind == "seat"
    assert CATALOGUE.match("CURSOR USAGE").kind == "api_credit"


def test_memo_refines_a_default_kind():
    match = CATALOGUE.match("ANTHROPIC")
    assert match.kind == "unknown"
    assert CATALOGUE.refine_kind(match, "API credits for evals").kind == "api_credit"
    assert CATALOGUE.refine_kind(match, "for the Q4 review").kind == "unknown"


def test_sanctioned_name_finds_vendor():
    assert CATALOGUE.vendor_for_name("chatgpt").id == "openai"
    assert CATALOGUE.vendor_for_name("Claude").id == "anthropic"
    assert CATALOGUE.vendor_for_name("Unknown Vendor") is None


def test_repeated_descriptor_comes_from_cache():
    first = CATALOGUE.read_descriptor("MIDJOURNEY INC. 0001")
    assert CATALOGUE.read_descriptor("MIDJOURNEY INC. 0001") is first


def _document(**vendor):
    entry = {"name": "Example", "category": "image", "descriptors": ["EXAMPLE AI"]} | vendor
    return {"version": 1, "vendors": {"example": entry}}


def test_parse_rejects_lower_case_pattern():
    with pytest.raises(CatalogueError, match="upper-case"):
        parse_catalogue(_document(descriptors=["example ai"]))


def test_parse_rejects_unknown_category():
    with pytest.raises(CatalogueError, match="category 'music'"):
        parse_catalogue(_document(category="music"))


def test_parse_rejects_unknown_kind():
    with pytest.raises(CatalogueError, match="kind 'licence'"):
        parse_catalogue(_document(descriptors=[{"pattern": "EXAMPLE AI", "kind": "licence"}]))


def test_parse_rejects_missing_version():
    with pytest.raises(CatalogueError, match="version: 1"):
        parse_catalogue({"vendors": {}})
