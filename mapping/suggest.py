"""Ranked category suggestions for a course staff have not mapped yet. They never count alone."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

HIGH = 0.8
NEAR_MISS_CAP = 0.4
NOT_QUALIFYING = "not-qualifying"


@dataclass(frozen=True)
class Signal:
    """A keyword pattern that points at a category, with its strength and the words to show."""

    category: str
    pattern: re.Pattern[str]
    confidence: float
    reason: str


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


DISPATCH = r"(tele-?com+unicat|dispatch|\b911\b|call[- ]?tak|emergency communications|\bpsap\b)"
CIT = r"(\bcit(?=\b|\d)|crisis interven)"
MHFA = r"(mental (health|hlth) (first|1st) aid|\bmh first aid|\bmhfa\b)"
AUDIENCE = (
    r"(fire|\bems\b|youth|teen|veteran|military|correction|higher ed|older adult|"
    r"at work|workplace|school|rural|\bymhfa\b)"
)
SIGNALS = (
    Signal(
        "dispatch-crisis",
        _rx(rf"{CIT}.*{DISPATCH}|{DISPATCH}.*{CIT}|\btcit\b"),
        0.9,
        "CIT for telecommunicators",
    ),
    Signal(
        "crit",
        _rx(r"crisis response (and|&) intervention"),
        0.92,
        "'crisis response and intervention' names CRIT",
    ),
    Signal("crit", _rx(r"\bcrit\b"), 0.85, "the abbreviation CRIT"),
    Signal("cit", _rx(r"crisis intervention team"), 0.92, "'crisis intervention team' names CIT"),
    Signal("cit", _rx(r"\bcit(?=\b|\d)"), 0.85, "the abbreviation CIT"),
    Signal(
        "crisis-equivalent",
        _rx(
            r"crisis (intervention|response)|persons in (mental health )?crisis|"
            r"behavioral health (crisis|response)"
        ),
        0.7,
        "a crisis-intervention course not named CIT or CRIT: an equivalent needs approval",
    ),
    Signal("mhfa", _rx(MHFA), 0.9, "'mental health first aid' (MHFA) names the course"),
    Signal(
        "mhfa-equivalent",
        _rx(rf"{MHFA}.*{AUDIENCE}|{AUDIENCE}.*{MHFA}|\bymhfa\b"),
        0.92,
        "an MHFA module for another audience: an approved equivalent",
    ),
)
PHRASES = {
    "crisis intervention team": "cit",
    "crisis response and intervention training": "crit",
    "mental health first aid": "mhfa",
    "telecommunicator": "dispatch-crisis",
}
NEAR_MISS = _rx(
    r"refresh|\bupdate\b|in-?service|recert|instructor|facilitator|train[- ]the[- ]trainer|"
    r"coordinator|meeting|\bintro(duction)?\b|overview|orientation|awareness|negotiat|hostage|"
    r"\bicat\b|de-?escalat|verbal judo|\bcism\b|critical|citizen|citrix|\bcpr\b|tactical|pregnan|"
    r"\bqpr\b|suicide|autism|wellness|peer support|advanced|basics\b"
)
HOURS_NEEDED = {
    "cit": 24.0,
    "crit": 24.0,
    "crisis-equivalent": 24.0,
    "mhfa": 6.0,
    "mhfa-equivalent": 6.0,
    "dispatch-crisis": 8.0,
}
HOURS_IN_TITLE = _rx(r"(\d+(?:\.\d+)?)\s*-?\s*(?:h\b|hr|hrs|hour)")


@dataclass
class Suggestion:
    category: str
    confidence: float
    reasons: list[str] = field(default_factory=list)

    @property
    def high_confidence(self) -> bool:
        return self.confidence >= HIGH

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "high_confidence": self.high_confidence,
            "reasons": self.reasons,
        }


@dataclass(frozen=True)
class MappedTitle:
    """A title staff already mapped, for similarity."""

    title: str
    category: str


def suggest(
    title: str,
    hours: float | None = None,
    provider: str | None = None,
    mapped: Sequence[MappedTitle] = (),
) -> list[Suggestion]:
    """Suggestions for one course, best first; empty when nothing fits."""
    text = _normalise(title)
    found: dict[str, Suggestion] = {}
    for signal in SIGNALS:
        if signal.pattern.search(text):
            _offer(found, signal.category, signal.confidence, signal.reason)
    for phrase, category in PHRASES.items():
        score = fuzz.partial_ratio(phrase, text)
        if 88 <= score < 100 and category not in found:
            _offer(
                found, category, 0.55 + (score - 85) / 100, f"looks like '{phrase}' ({score:.0f})"
            )
    _similar(found, text, mapped)
    hours = _hours_in(title) or (hours if hours else None)
    for suggestion in found.values():
        _weigh_hours(suggestion, hours)
        _weigh_near_miss(suggestion, text)
    _prefer_variant(found)
    _offer_not_qualifying(found, text, hours)
    if provider and re.search(r"national council|mental wellbeing", provider, re.IGNORECASE):
        for suggestion in found.values():
            if suggestion.category == "mhfa":
                suggestion.reasons.append(f"provider {provider!r} runs MHFA")
    return sorted(found.values(), key=lambda s: (-s.confidence, s.category))


def _offer(found: dict[str, Suggestion], category: str, confidence: float, reason: str) -> None:
    current = found.get(category)
    if current is None:
        found[category] = Suggestion(category, confidence, [reason])
        return
    current.confidence = max(current.confidence, confidence)
    if reason not in current.reasons:
        current.reasons.append(reason)


def _similar(found: dict[str, Suggestion], text: str, mapped: Sequence[MappedTitle]) -> None:
    if not mapped:
        return
    best = process.extractOne(
        text, [_normalise(m.title) for m in mapped], scorer=fuzz.token_set_ratio, score_cutoff=88
    )
    if best is not None:
        match = mapped[best[2]]
        _offer(
            found,
            match.category,
            0.5 + (best[1] - 88) / 40,
            f"similar to mapped course {match.title!r} ({best[1]:.0f})",
        )


def _weigh_hours(suggestion: Suggestion, hours: float | None) -> None:
    needed = HOURS_NEEDED.get(suggestion.category)
    if needed is None or hours is None:
        return
    if hours < needed:
        suggestion.confidence = min(suggestion.confidence, NEAR_MISS_CAP)
        suggestion.reasons.append(f"{hours:g} h is short of the {needed:g} h such a course takes")
    else:
        suggestion.reasons.append(f"{hours:g} h fits")


def _weigh_near_miss(suggestion: Suggestion, text: str) -> None:
    word = NEAR_MISS.search(text)
    if word:
        suggestion.confidence = min(suggestion.confidence, NEAR_MISS_CAP)
        suggestion.reasons.append(f"'{word.group(0)}' suggests a related course that may not count")


def _prefer_variant(found: dict[str, Suggestion]) -> None:
    """An MHFA module for another audience is an equivalent, not MHFA itself."""
    if "mhfa-equivalent" in found and "mhfa" in found:
        found["mhfa"].confidence = min(found["mhfa"].confidence, 0.6)
    dispatch = found.get("dispatch-crisis")
    if dispatch is not None and dispatch.confidence >= HIGH:
        for other in ("cit", "crisis-equivalent"):
            found.pop(other, None)


def _offer_not_qualifying(found: dict[str, Suggestion], text: str, hours: float | None) -> None:
    """Related-looking courses that fall short are better proposed as not qualifying."""
    doubts = [
        r
        for s in found.values()
        for r in s.reasons
        if "short of" in r or "suggests a related course" in r
    ]
    if found and doubts and all(s.confidence <= NEAR_MISS_CAP for s in found.values()):
        found[NOT_QUALIFYING] = Suggestion(NOT_QUALIFYING, 0.7, sorted(set(doubts)))


def _hours_in(title: str) -> float | None:
    match = HOURS_IN_TITLE.search(title)
    return float(match.group(1)) if match else None


def _normalise(title: str) -> str:
    """Lower case, single spaces, and dotted or spaced initials joined (C.I.T., C I T → cit)."""
    text = " ".join(title.replace("_", " ").split()).lower()
    text = re.sub(r"\b(?:[a-z]\.){2,}", lambda m: m.group(0).replace(".", ""), text)
    return re.sub(r"\b[a-z](?: [a-z]\b){2,}", lambda m: m.group(0).replace(" ", ""), text)


def top(suggestions: Iterable[Suggestion]) -> Suggestion | None:
    return next(iter(suggestions), None)
