"""How a downloaded corpus archive is verified: its published checksum, or its contents and then its recorded hash.

Two cases, one per :class:`data_fetch.corpora.Remote`:

* **Published checksum** (``Remote.known_hash``; RAVDESS: the MD5 its Zenodo
  record lists). pooch checks every download against it; a mismatch is refused.
* **No published checksum** (EmoDB, eNTERFACE'05). The first archive is checked
  by what it holds (:func:`contents_problem`: the utterances of the corpus's file
  list, or its per-class counts and total where no list exists), and only then
  is its SHA256 recorded beside it, atomically, in ``downloads/<archive>.sha256``
  (trust on first use), marked :data:`VERIFIED`. Every later use of the archive, a re-extraction or a
  fresh download after the archive was deleted, must match that record
  (:func:`expected_hash`); deleting the record starts over from the contents check.
"""

from __future__ import annotations

from pathlib import Path

import pooch

from didan_lite.atomic import atomic_write

from data_fetch.corpora import CorpusSpec, Remote
from data_fetch.scan import audio_problem, scan_corpus

_SHOWN = 5


def record_path(folder: Path, remote: Remote) -> Path:
    """Where the hash of ``remote``'s archive, recorded at its first verified download, is kept."""
    return Path(folder) / f"{remote.filename}.sha256"


VERIFIED = "contents-verified"
"""The mark of a record written after the archive's contents passed :func:`contents_problem` (decodable audio
included). A record without it (written by an older version, or by hand) is not trusted: the archive's contents
are checked again and the record replaced."""


def recorded_hash(folder: Path, remote: Remote) -> str | None:
    """The recorded ``"sha256:..."`` of ``remote``'s archive, or None before its first verified download (also for
    a record without the :data:`VERIFIED` mark, which is replaced once the contents pass)."""
    record = record_path(folder, remote)
    if not record.is_file():
        return None
    words = record.read_text(encoding="utf-8").split()
    value = words[0] if words else ""
    verified = VERIFIED in words[1:]
    return value if verified and value.startswith("sha256:") and len(value) == len("sha256:") + 64 else None


def expected_hash(folder: Path, remote: Remote) -> str | None:
    """The hash the archive must have: the published one, else the recorded one, else None (first download)."""
    return remote.known_hash or recorded_hash(folder, remote)


def record_hash(archive: Path, folder: Path, remote: Remote) -> str:
    """Compute the SHA256 of ``archive`` and record it (atomically); return ``"sha256:..."``."""
    value = "sha256:" + pooch.file_hash(str(archive), alg="sha256")
    with atomic_write(record_path(folder, remote), "w", encoding="utf-8") as handle:
        handle.write(f"{value}  {remote.filename}  {VERIFIED}\n")
    return value


def expected_keys(spec: CorpusSpec) -> frozenset[str] | None:
    """The utterance keys the corpus's archive must hold, where they are known (a file list or a full design)."""
    keys = spec.archive_keys or spec.expected_keys
    return keys() if keys is not None else None


def contents_problem(spec: CorpusSpec, root: Path) -> str | None:
    """What the unpacked archive at ``root`` lacks or has too much of, against the corpus; None if it matches.

    Checked: the exact set of utterance keys where known (EmoDB's file list,
    RAVDESS's design), else the per-label counts and the total within the
    corpus's tolerance (eNTERFACE'05: 1,290 +/- 10 clips).
    """
    scan = scan_corpus(spec, root)
    if not spec.is_video:  # the right names around other bytes (an error page saved 535 times) are not the corpus
        bad = [f"{item.path.name}: {problem}" for item in scan.found.values()
               if (problem := audio_problem(item.path))]
        if bad:
            return (f"{len(bad)} of its {len(scan.found)} utterance files are not decodable audio "
                    f"({'; '.join(bad[:2])}{'; ...' if len(bad) > 2 else ''})")
    keys = expected_keys(spec)
    if keys is not None:
        missing, unexpected = sorted(keys - scan.found.keys()), sorted(scan.found.keys() - keys)
        parts = [
            f"{len(names)} {what} ({', '.join(names[:_SHOWN])}{', ...' if len(names) > _SHOWN else ''})"
            for what, names in (("utterance(s) missing", missing), ("unexpected utterance(s)", unexpected))
            if names
        ]
        return f"{'; '.join(parts)} against the corpus's list of {len(keys)}" if parts else None
    counts, total = scan.label_counts(), len(scan.found)
    wrong = {
        label: counts.get(label, 0)
        for label, expected in (spec.expected_counts or {}).items()
        if counts.get(label, 0) != expected
    }
    if wrong:
        shown = ", ".join(f"{label} {found} (expected {spec.expected_counts[label]})" for label, found in wrong.items())
        return f"files per label differ: {shown}"
    if abs(total - spec.expected_total) > spec.total_tolerance:
        tolerance = f" +/- {spec.total_tolerance}" if spec.total_tolerance else ""
        return f"{total} utterance files, expected {spec.expected_total}{tolerance}"
    return None
