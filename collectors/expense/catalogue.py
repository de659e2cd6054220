"""The AI vendor catalogue (rules/catalogues/ai_vendors.yaml) and the descriptor matcher built
from it.

A descriptor is cut into whole tokens (`normalise_tokens`) and a pattern matches only a run of
whole tokens, so `OPEN` never matches `OPENTABLE`. The matcher looks each token up in a dictionary
of the first tokens of every pattern, so its cost follows the length of the descriptor, not the
size of the catalogue. Repeated descriptors are read from a bounded cache.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Iterable, Sequence, TypeVar

import yaml

CATALOGUE_PACKAGE = "rules"
CATALOGUE_PATH = "catalogues/ai_vendors.yaml"

KINDS = ("seat", "api_credit", "unknown")
CONFIDENCES = ("high", "medium", "low")
CATEGORIES = ("chat_assistant", "coding_assistant", "image", "video", "voice", "writing", "search", "api_platform")

# Channels: how the charge reached the card. `direct` is the vendor's own merchant account.
DIRECT = "direct"
PROCESSOR = "processor"
APP_STORE = "app_store"
# A seller of many products (GitHub, Adobe) whose charge is AI only when the memo names the AI
# product. Such a charge reaches the card directly, so its channel is `direct`.
PLATFORM = "platform"

# Enough distinct descriptors for a large export while keeping memory bounded: the cache is
# emptied when it reaches this size.
MATCH_CACHE_SIZE = 200_000

_TOKEN_RE = re.compile(r"[A-Z0-9]+")


class CatalogueError(ValueError):
    """The catalogue file breaks its own format; the message names the entry."""


@dataclass(frozen=True)
class Vendor:
    """One AI vendor of the catalogue."""

    id: str
    name: str
    category: str
    names: tuple[str, ...] = ()
    default_kind: str = "unknown"
    api: bool = False

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every name policy.sanctioned_vendors may use for this vendor."""
        return (self.id, self.name, *self.names)


@dataclass(frozen=True)
class Pattern:
    """A run of whole tokens that names a vendor, with the kind and confidence it gives a charge."""

    tokens: tuple[str, ...]
    vendor: Vendor
    kind: str | None = None
    confidence: str = "high"
    at_start: bool = False
    common_word: bool = False


@dataclass(frozen=True)
class VendorMatch:
    """The vendor, kind, confidence and channel the catalogue recognised in one charge."""

    vendor: Vendor
    kind: str
    confidence: str
    channel: str
    channel_name: str | None = None
    kind_source: str = "pattern"  # pattern, hint, default or memo


@dataclass(frozen=True)
class DescriptorReading:
    """The reading of a descriptor alone: a vendor, or an app store or bare processor whose memo
    must name the product."""

    match: VendorMatch | None
    memo_channel: str | None = None
    memo_channel_name: str | None = None


def normalise_tokens(text: str) -> list[str]:
    """Cut `text` into upper-case ASCII tokens: `Claude's Café` becomes CLAUDE S CAFE."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _TOKEN_RE.findall(text.upper())


class PatternIndex:
    """Patterns keyed by their first token, for lookups that cost one dictionary probe per token."""

    def __init__(self, patterns: Iterable[Pattern]):
        self._by_first: dict[str, list[Pattern]] = {}
        for pattern in patterns:
            self._by_first.setdefault(pattern.tokens[0], []).append(pattern)
        for candidates in self._by_first.values():
            candidates.sort(key=lambda p: -len(p.tokens))

    def find(self, tokens: list[str], merchant_start: int = 0) -> list[Pattern]:
        """Find every pattern whose tokens appear as a run in `tokens`. An anchored pattern
        matches only at `merchant_start`."""
        found = []
        by_first = self._by_first
        for index, token in enumerate(tokens):
            candidates = by_first.get(token)
            if not candidates:
                continue
            for pattern in candidates:
                if pattern.at_start and index != merchant_start:
                    continue
                end = index + len(pattern.tokens)
                if end <= len(tokens) and tuple(tokens[index:end]) == pattern.tokens:
                    found.append(pattern)
        return found


@dataclass(frozen=True)
class Prefix:
    """A payment processor or app store, named by a run of tokens. A `whole` prefix must be the
    whole descriptor."""

    tokens: tuple[str, ...]
    name: str
    whole: bool = False
    point_of_sale: bool = False


@dataclass(frozen=True)
class Platform:
    """A seller of many products, named by a run of tokens, with the patterns of its AI products
    in a memo."""

    tokens: tuple[str, ...]
    name: str
    products: PatternIndex
    whole: bool = False


@dataclass
class VendorCatalogue:
    """The loaded catalogue with its matchers."""

    vendors: dict[str, Vendor]
    descriptors: PatternIndex
    products: PatternIndex
    processors: list[Prefix]
    app_stores: list[Prefix]
    platforms: list[Platform]
    seat_hints: frozenset[str]
    business_words: frozenset[str]
    neutral_words: frozenset[str]
    api_hints: frozenset[str]
    samples: dict[str, list[Any]] = field(default_factory=dict)
    _cache: dict[str, DescriptorReading] = field(default_factory=dict, repr=False)
    _name_key_cache: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict, repr=False)
    _vendors_by_name: dict[tuple[str, ...], Vendor] = field(default_factory=dict, repr=False)

    def read_descriptor(self, descriptor: str) -> DescriptorReading:
        """Recognise the vendor a descriptor names, from the cache when it was seen before."""
        reading = self._cache.get(descriptor)
        if reading is None:
            if len(self._cache) >= MATCH_CACHE_SIZE:
                self._cache.clear()
            reading = self._read_descriptor(descriptor)
            self._cache[descriptor] = reading
        return reading

    def match(self, descriptor: str, memo: str = "") -> VendorMatch | None:
        """Return the vendor match of a charge with this descriptor and memo, or None when it is not AI."""
        reading = self.read_descriptor(descriptor)
        if reading.match is not None or reading.memo_channel is None or not memo:
            return reading.match
        return self.match_memo(memo, reading.memo_channel, reading.memo_channel_name)

    def match_memo(self, memo: str, channel: str, channel_name: str | None) -> VendorMatch | None:
        """Match the product named in the memo of an app-store, platform or bare processor charge.

        App-store billing is always a subscription for a person, so its kind is `seat`. Its
        confidence is medium because only the memo names the product, as for a platform, whose
        memo is searched for that platform's AI products only. Behind a bare processor the
        confidence is low, because that memo is free text.
        """
        tokens = normalise_tokens(memo)
        if channel == PLATFORM:
            return self._platform_match(tokens, channel_name)
        found = self.products.find(tokens)
        if not found:
            return None
        pattern = found[0]
        if channel == APP_STORE:
            return VendorMatch(pattern.vendor, "seat", "medium", channel, channel_name, "memo")
        kind = self._hinted_kind(tokens) or pattern.vendor.default_kind
        return VendorMatch(pattern.vendor, kind, "low", channel, channel_name, "memo")

    def _platform_match(self, tokens: list[str], platform_name: str | None) -> VendorMatch | None:
        platform = next((platform for platform in self.platforms if platform.name == platform_name), None)
        found = platform.products.find(tokens) if platform else []
        if not found:
            return None
        vendor = max(found, key=lambda pattern: len(pattern.tokens)).vendor
        kind = self._hinted_kind(tokens) or vendor.default_kind
        return VendorMatch(vendor, kind, "medium", DIRECT, platform_name, "memo")

    def match_claim(self, merchant: str, memo: str) -> VendorMatch | None:
        """Match an expense claim whose merchant a person typed (`Cursor`, `Claude`) rather than
        a card statement wrote: the merchant or memo names a product, and the merchant names that
        product's vendor. Confidence is medium, as for other matches that rest on typed text."""
        merchant_tokens = normalise_tokens(merchant)
        if not merchant_tokens or not self.business_words.isdisjoint(merchant_tokens):
            return None
        memo_tokens = normalise_tokens(memo)
        kind_tokens = merchant_tokens + memo_tokens
        found = self.products.find(merchant_tokens) + self.products.find(memo_tokens)
        for pattern in sorted(found, key=lambda pattern: -len(pattern.tokens)):
            if self._name_tokens(pattern.vendor).isdisjoint(merchant_tokens):
                continue
            kind = self._hinted_kind(kind_tokens) or pattern.vendor.default_kind
            return VendorMatch(pattern.vendor, kind, "medium", DIRECT, None, "memo")

        # A merchant that is exactly a vendor's name (Gamma, Runway), with the memo naming it
        # again (Gamma Pro), is that vendor even where its name alone is a common word.
        vendor = self._vendor_named(tuple(token for token in merchant_tokens if token not in self.neutral_words))
        if vendor is not None and not self._name_tokens(vendor).isdisjoint(memo_tokens):
            kind = self._hinted_kind(kind_tokens) or vendor.default_kind
            return VendorMatch(vendor, kind, "medium", DIRECT, None, "memo")
        return None

    def _vendor_named(self, tokens: tuple[str, ...]) -> Vendor | None:
        """Return the vendor one of whose names is exactly these tokens."""
        if not self._vendors_by_name:
            for vendor in self.vendors.values():
                for key in self._name_keys(vendor):
                    self._vendors_by_name.setdefault(key, vendor)
        return self._vendors_by_name.get(tokens)

    def _name_tokens(self, vendor: Vendor) -> frozenset[str]:
        """Return the distinctive tokens of a vendor's id, name and aliases (not AI or INC)."""
        return frozenset(token for key in self._name_keys(vendor) for token in key)

    def _name_keys(self, vendor: Vendor) -> tuple[tuple[str, ...], ...]:
        """Return each of a vendor's names as its tokens without neutral words, once per vendor."""
        keys = self._name_key_cache.get(vendor.id)
        if keys is None:
            names = (tuple(token for token in normalise_tokens(name) if token not in self.neutral_words) for name in vendor.all_names)
            keys = tuple(key for key in names if key)
            self._name_key_cache[vendor.id] = keys
        return keys

    def vendor_for_name(self, name: str) -> Vendor | None:
        """Return the vendor a name from policy.sanctioned_vendors refers to, case-insensitively."""
        wanted = name.strip().casefold()
        for vendor in self.vendors.values():
            if any(candidate.casefold() == wanted for candidate in vendor.all_names):
                return vendor
        return None

    def _read_descriptor(self, descriptor: str) -> DescriptorReading:
        tokens = normalise_tokens(descriptor)
        processor = _leading_prefix(tokens, self.processors)
        merchant_start = len(processor.tokens) if processor else 0

        point_of_sale = processor is not None and processor.point_of_sale
        found = [
            pattern
            for pattern in self.descriptors.find(tokens, merchant_start)
            if self._stands_alone(pattern, tokens[merchant_start:]) and not (pattern.common_word and point_of_sale)
        ]
        if found and not self.business_words.isdisjoint(tokens):
            # A vendor's name beside the word for a local business (PERPLEXITY BREWING) is that
            # business, not the vendor.
            found = []
        if found:
            channel, channel_name = (PROCESSOR, processor.name) if processor else (DIRECT, None)
            if processor and any(pattern.tokens[: len(processor.tokens)] == processor.tokens for pattern in found):
                # GOOGLE GEMINI is Google billing its own product, not a payment through Google.
                channel, channel_name = DIRECT, None
            return DescriptorReading(self._vendor_match(found, tokens, channel, channel_name))

        app_store = _contained_prefix(tokens, self.app_stores)
        if app_store is not None:
            return DescriptorReading(None, APP_STORE, app_store.name)
        if processor is not None and merchant_start == len(tokens):
            return DescriptorReading(None, PROCESSOR, processor.name)
        platform = _contained_prefix(tokens[merchant_start:], self.platforms)
        if platform is not None:
            return DescriptorReading(None, PLATFORM, platform.name)
        return DescriptorReading(None)

    def _stands_alone(self, pattern: Pattern, merchant: list[str]) -> bool:
        """Check that a common-word pattern is the vendor: every other token of the merchant part
        is neutral (a legal or web suffix, a kind hint, a number or a one- or two-letter code)."""
        if not pattern.common_word:
            return True
        rest = list(merchant)
        for token in pattern.tokens:
            if token in rest:
                rest.remove(token)
        return all(
            token in self.neutral_words or token in self.seat_hints or token in self.api_hints or token.isdigit() or len(token) <= 2
            for token in rest
        )

    def _vendor_match(self, found: list[Pattern], tokens: list[str], channel: str, channel_name: str | None) -> VendorMatch:
        """Pick the longest matching pattern; its vendor, its kind or the hinted one, and the
        lowest confidence among the patterns of that vendor that matched."""
        best = max(found, key=lambda p: len(p.tokens))
        vendor = best.vendor
        same_vendor = [p for p in found if p.vendor is vendor]
        kind, source = next((p.kind for p in sorted(same_vendor, key=lambda p: -len(p.tokens)) if p.kind), None), "pattern"
        if kind is None:
            kind, source = self._hinted_kind(tokens), "hint"
        if kind is None:
            kind, source = vendor.default_kind, "default"
        confidence = "high" if any(p.confidence == "high" for p in same_vendor) else "medium"
        return VendorMatch(vendor, kind, confidence, channel, channel_name, source)

    def refine_kind(self, match: VendorMatch, memo: str) -> VendorMatch:
        """Let the memo's kind hints decide a kind that only the vendor's default set, as in a
        memo of `API credits for batch evaluation` beside the descriptor `ANTHROPIC`."""
        kind = self._hinted_kind(normalise_tokens(memo))
        if kind is None or kind == match.kind:
            return match
        return replace(match, kind=kind, kind_source="memo")

    def _hinted_kind(self, tokens: list[str]) -> str | None:
        seat = any(token in self.seat_hints for token in tokens)
        api = any(token in self.api_hints for token in tokens)
        if seat and not api:
            return "seat"
        if api and not seat:
            return "api_credit"
        return None


def _leading_prefix(tokens: list[str], prefixes: list[Prefix]) -> Prefix | None:
    """Return the longest prefix that starts `tokens`."""
    for prefix in prefixes:
        if tuple(tokens[: len(prefix.tokens)]) == prefix.tokens:
            return prefix
    return None


# A processor, app store or platform: anything named by a run of tokens.
PrefixT = TypeVar("PrefixT", "Prefix", "Platform")


def _contained_prefix(tokens: list[str], prefixes: Sequence[PrefixT]) -> PrefixT | None:
    """Return the first prefix whose tokens appear as a run anywhere in `tokens`."""
    for prefix in prefixes:
        if prefix.whole:
            if tuple(tokens) == prefix.tokens:
                return prefix
            continue
        width = len(prefix.tokens)
        for index in range(len(tokens) - width + 1):
            if tuple(tokens[index : index + width]) == prefix.tokens:
                return prefix
    return None


@functools.cache
def load_catalogue() -> VendorCatalogue:
    """Load and check the catalogue shipped in the rules package."""
    text = resources.files(CATALOGUE_PACKAGE).joinpath(CATALOGUE_PATH).read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text))


def parse_catalogue(document: dict[str, Any]) -> VendorCatalogue:
    """Build a catalogue from its YAML document; raise CatalogueError naming a broken entry."""
    if not isinstance(document, dict) or document.get("version") != 1:
        raise CatalogueError("the catalogue must be a mapping with version: 1")

    vendors: dict[str, Vendor] = {}
    descriptor_patterns: list[Pattern] = []
    product_patterns: list[Pattern] = []
    for vendor_id, entry in (document.get("vendors") or {}).items():
        vendor = _parse_vendor(vendor_id, entry)
        vendors[vendor_id] = vendor
        descriptor_patterns.extend(_parse_patterns(vendor, entry.get("descriptors"), "descriptors"))
        product_patterns.extend(_parse_patterns(vendor, entry.get("products"), "products"))

    hints = document.get("kind_hints") or {}
    return VendorCatalogue(
        vendors=vendors,
        descriptors=PatternIndex(descriptor_patterns),
        products=PatternIndex(product_patterns),
        processors=_parse_prefixes(document.get("processors"), "processors"),
        app_stores=_parse_prefixes(document.get("app_stores"), "app_stores"),
        platforms=_parse_platforms(document.get("platforms"), vendors),
        seat_hints=frozenset(_single_tokens(hints.get("seat"), "kind_hints.seat")),
        business_words=frozenset(_single_tokens(document.get("business_words"), "business_words")),
        neutral_words=frozenset(_single_tokens(document.get("neutral_words"), "neutral_words")),
        api_hints=frozenset(_single_tokens(hints.get("api_credit"), "kind_hints.api_credit")),
        samples=document.get("samples") or {},
    )


def _parse_vendor(vendor_id: str, entry: Any) -> Vendor:
    where = f"vendors.{vendor_id}"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", vendor_id):
        raise CatalogueError(f"{where}: a vendor id is lower-case letters, digits and hyphens")
    for key in ("name", "category", "descriptors"):
        if not entry.get(key):
            raise CatalogueError(f"{where}: {key} is missing")
    if entry["category"] not in CATEGORIES:
        raise CatalogueError(f"{where}: category {entry['category']!r} is not one of {', '.join(CATEGORIES)}")
    default_kind = entry.get("default_kind", "unknown")
    if default_kind not in KINDS:
        raise CatalogueError(f"{where}: default_kind {default_kind!r} is not one of {', '.join(KINDS)}")
    return Vendor(
        id=vendor_id,
        name=str(entry["name"]),
        category=entry["category"],
        names=tuple(str(name) for name in entry.get("names", [])),
        default_kind=default_kind,
        api=bool(entry.get("api", False)),
    )


def _parse_patterns(vendor: Vendor, entries: Any, key: str) -> list[Pattern]:
    patterns = []
    for entry in entries or []:
        spec = {"pattern": entry} if isinstance(entry, str) else dict(entry)
        where = f"vendors.{vendor.id}.{key}: {spec.get('pattern')!r}"
        text = str(spec.get("pattern", "")).strip()
        at_start = text.startswith("^")
        tokens = tuple(normalise_tokens(text.lstrip("^")))
        if not tokens or " ".join(tokens) != text.lstrip("^").strip():
            raise CatalogueError(f"{where}: a pattern is upper-case A-Z and 0-9 tokens separated by single spaces")
        kind = spec.get("kind")
        if kind is not None and kind not in KINDS:
            raise CatalogueError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        confidence = spec.get("confidence", "high")
        if confidence not in ("high", "medium"):
            raise CatalogueError(f"{where}: confidence is high or medium")
        patterns.append(Pattern(tokens, vendor, kind, confidence, at_start, bool(spec.get("common_word", False))))
    return patterns


def _parse_prefixes(entries: Any, key: str) -> list[Prefix]:
    prefixes = []
    for entry in entries or []:
        tokens = tuple(normalise_tokens(str(entry.get("pattern", ""))))
        if not tokens or not entry.get("name"):
            raise CatalogueError(f"{key}: {entry!r} needs a pattern and a name")
        prefixes.append(Prefix(tokens, str(entry["name"]), bool(entry.get("whole", False)), bool(entry.get("point_of_sale", False))))
    # Sorted by length, longest first, so that PADDLE NET wins over PADDLE.
    return sorted(prefixes, key=lambda prefix: -len(prefix.tokens))


def _parse_platforms(entries: Any, vendors: dict[str, Vendor]) -> list[Platform]:
    """Read the platforms, each with a pattern, a name and a mapping of memo patterns to vendor ids."""
    platforms = []
    for entry in entries or []:
        tokens = tuple(normalise_tokens(str(entry.get("pattern", ""))))
        products = entry.get("products")
        if not tokens or not entry.get("name") or not isinstance(products, dict) or not products:
            raise CatalogueError(f"platforms: {entry!r} needs a pattern, a name and products (memo pattern: vendor id)")
        patterns = []
        for text, vendor_id in products.items():
            if vendor_id not in vendors:
                raise CatalogueError(f"platforms: {entry['name']}: product {text!r} names an unknown vendor {vendor_id!r}")
            patterns.extend(_parse_patterns(vendors[vendor_id], [text], "platform products"))
        platforms.append(Platform(tokens, str(entry["name"]), PatternIndex(patterns)))
    return sorted(platforms, key=lambda platform: -len(platform.tokens))


def _single_tokens(entries: Any, key: str) -> list[str]:
    tokens = []
    for entry in entries or []:
        found = normalise_tokens(str(entry))
        if len(found) != 1 or found[0] != str(entry):
            raise CatalogueError(f"{key}: {entry!r} must be one upper-case token")
        tokens.append(found[0])
    return tokens
