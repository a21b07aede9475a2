"""Attestations recorded and rejected from the web, with their evidence files.

A file is accepted only when its first bytes say it is a PDF or an image we know; it is kept
under a random name in a private folder, and served back only with the type found here.
Every change goes through the one recomputation, so the requirement's ✓ follows at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.config.model import Settings
from onemind.errors import ConfigurationError
from onemind.pipeline.recompute import recompute
from onemind.private_files import private_folder, write_private
from onemind.store.audit import audit
from onemind.store.models import Attestation

KINDS = ("partnership", "policy")
MAX_BYTES = 10 * 1024 * 1024
MAX_NOTE = 2000
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


class EvidenceError(ConfigurationError):
    """An attestation or its file cannot be taken as given; the message says why."""


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes


def sniff(content: bytes) -> tuple[str, str]:
    """The content type and file suffix the bytes themselves show.

    Raises:
        EvidenceError: empty, too large, or neither a PDF nor a PNG/JPEG/WebP image.
    """
    if not content:
        raise EvidenceError("the evidence file is empty")
    if len(content) > MAX_BYTES:
        raise EvidenceError(f"the evidence file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    for signature, kind, suffix in SIGNATURES:
        if content.startswith(signature):
            return kind, suffix
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", ".webp"
    raise EvidenceError("the evidence file must be a PDF or an image (PNG, JPEG or WebP)")


def record(
    session: Session,
    settings: Settings,
    folder: Path,
    agency_id: str,
    kind: str,
    attested_on: date,
    note: str,
    upload: Upload | None,
    actor: str,
    now: datetime,
) -> Attestation:
    """Record (or, for a date already recorded, replace) an attestation and recompute.

    Raises:
        EvidenceError: an unknown kind, a future date, a note too long or a bad file.
    """
    problems = _problems(kind, attested_on, note, now)
    if problems:
        raise EvidenceError("; ".join(problems))
    stored = _store(folder, upload) if upload is not None else None
    row = session.scalar(
        select(Attestation).where(
            Attestation.agency_id == agency_id,
            Attestation.kind == kind,
            Attestation.attested_on == attested_on,
        )
    )
    if row is None:
        row = Attestation(agency_id=agency_id, kind=kind, attested_on=attested_on)
        session.add(row)
    row.evidence = note.strip() or None
    row.recorded_by, row.recorded_at = actor, now
    row.rejected_at = row.rejected_by = row.rejection_reason = None
    if stored is not None:
        row.evidence_file, row.evidence_type, row.evidence_name = stored
    session.flush()
    details = {"kind": kind, "attested_on": attested_on.isoformat(), "file": row.evidence_name}
    audit(session, now, actor, "attestation.record", f"agency {agency_id}", details)
    recompute(session, settings, now, now.date(), [agency_id])
    return row


def _problems(kind: str, attested_on: date, note: str, now: datetime) -> list[str]:
    found = []
    if kind not in KINDS:
        found.append(f"kind {kind!r}: one of {', '.join(KINDS)}")
    if attested_on > now.date():
        found.append(f"date {attested_on.isoformat()} is in the future")
    if len(note) > MAX_NOTE:
        found.append(f"the note is longer than {MAX_NOTE} characters")
    return found


def _store(folder: Path, upload: Upload) -> tuple[str, str, str]:
    """Keep the file under a random name; returns (stored name, checked type, given name)."""
    kind, suffix = sniff(upload.content)
    name = secrets.token_hex(16) + suffix
    write_private(private_folder(folder) / name, upload.content)
    given = "".join(ch for ch in upload.name if ch.isprintable())[-300:] or name
    return name, kind, given


def reject(
    session: Session,
    settings: Settings,
    attestation: Attestation,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """The attestation no longer counts; the requirement is recomputed.

    Raises:
        EvidenceError: no reason given, or it is already rejected.
    """
    reason = reason.strip()
    if not reason or len(reason) > MAX_NOTE:
        raise EvidenceError(f"give a reason for the rejection (1 to {MAX_NOTE} characters)")
    if attestation.rejected_at is not None:
        raise EvidenceError("this attestation is already rejected")
    attestation.rejected_at, attestation.rejected_by = now, actor
    attestation.rejection_reason = reason
    details = {"kind": attestation.kind, "reason": reason, "attestation": attestation.id}
    audit(session, now, actor, "attestation.reject", f"agency {attestation.agency_id}", details)
    recompute(session, settings, now, now.date(), [attestation.agency_id])


def evidence_path(folder: Path, attestation: Attestation) -> Path | None:
    """Where the attestation's file is kept, if it has one still there."""
    if not attestation.evidence_file:
        return None
    path = folder / Path(attestation.evidence_file).name
    return path if path.is_file() else None
