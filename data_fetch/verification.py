"""Check a corpus copy against what the corpus should hold.

:func:`verify` reports missing, extra, unusable and mislabelled files and
the files per class against the expected counts (:mod:`data_fetch.corpora`).
It decodes every audio file (:func:`didan_lite.audio.read_audio`), so it names
each one that is unreadable, truncated, silent or holds NaN/infinite samples;
about 2 s per thousand files (1,735 files of EmoDB and CASIA: 3.9 s on a
shared 2-core CPU). Videos are checked for an audio track (PyAV).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from didan_lite.audio import AudioFault, read_audio

from data_fetch import cache
from data_fetch.corpora import CorpusSpec, get_corpus
from data_fetch.integrity import expected_keys
from data_fetch.manifests import find_copy
from data_fetch.scan import Problem, audio_problem, scan_corpus

_SHOWN = 20
_UNUSABLE = "unreadable, truncated, silent or non-finite"  # every such file is named


@dataclass
class VerifyReport:
    """What a copy holds, against what it should hold."""

    spec: CorpusSpec
    root: Path
    counts: Counter  # files per original label
    speakers: Counter  # files per speaker
    missing: list[str] = field(default_factory=list)  # keys of expected files absent (full-factorial corpora)
    extra: list[Problem] = field(default_factory=list)
    unreadable: list[Problem] = field(default_factory=list)  # undecodable, truncated, silent, non-finite
    mislabelled: list[Problem] = field(default_factory=list)
    known_bad: list[Problem] = field(default_factory=list)  # present, as expected; kept out of manifests
    notes: list[Problem] = field(default_factory=list)
    listed: bool = False  # the corpus's utterance names are known (a file list or a full design): missing ones are named

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def counts_match(self) -> bool:
        """Per-class counts equal the expected ones (where documented) and the total is within tolerance."""
        expected = self.spec.expected_counts
        if expected is not None and any(self.counts.get(label, 0) != count for label, count in expected.items()):
            return False
        return abs(self.total - self.spec.expected_total) <= self.spec.total_tolerance

    @property
    def complete(self) -> bool:
        """Nothing missing, unreadable or mislabelled, and the counts match."""
        return self.counts_match and not (self.missing or self.unreadable or self.mislabelled)

    def summary(self) -> str:
        """Human-readable report, one section per finding."""
        spec = self.spec
        verdict = "COMPLETE" if self.complete else "INCOMPLETE"
        tolerance = f" +/- {spec.total_tolerance}" if spec.total_tolerance else ""
        lines = [
            f"{spec.display_name} at {self.root}: {verdict}",
            f"  files: {self.total:,} (expected {spec.expected_total:,}{tolerance})",
            f"  {'label':<10} {'emotion':<10} {'found':>7} {'expected':>9}",
        ]
        labels = list(spec.expected_counts or {}) + sorted(set(self.counts) - set(spec.expected_counts or {}))
        for label in labels:
            expected = (spec.expected_counts or {}).get(label)
            emotion = spec.label_map.get(label, "(none)")
            flag = "" if expected is None or self.counts.get(label, 0) == expected else "  <-"
            shown = "?" if expected is None else f"{expected:,}"
            lines.append(f"  {label:<10} {emotion:<10} {self.counts.get(label, 0):>7,} {shown:>9}{flag}")
        speakers = f"  speakers: {len(self.speakers)}"
        if spec.expected_speakers:
            speakers += f" (expected {spec.expected_speakers})"
        if spec.files_per_speaker:
            uneven = {s: n for s, n in sorted(self.speakers.items()) if n != spec.files_per_speaker}
            speakers += f"; {spec.files_per_speaker} files each expected" + (f", differ: {uneven}" if uneven else "")
        lines.append(speakers)
        if not self.listed:  # names cannot be listed: give the shortfall by the counts
            if spec.expected_counts:
                deficit = sum(max(0, n - self.counts.get(label, 0)) for label, n in spec.expected_counts.items())
            else:
                deficit = max(0, spec.expected_total - spec.total_tolerance - self.total)
            shortfall = f"{deficit:,} file(s) by the counts above (this corpus's names cannot be listed)"
            lines.append(f"  missing: {shortfall if deficit else 'none'}")
        sections = [
            ("missing", [str(key) for key in self.missing]),
            ("extra (not in the layout, duplicates)", [str(p) for p in self.extra]),
            (_UNUSABLE, [str(p) for p in self.unreadable]),
            ("mislabelled", [str(p) for p in self.mislabelled]),
            ("known bad (present; left out of manifests)", [str(p) for p in self.known_bad]),
            ("notes", [str(p) for p in self.notes]),
        ]
        for title, items in sections:
            shown = len(items) if title == _UNUSABLE else _SHOWN
            if items:
                lines.append(f"  {title}: {len(items)}")
                lines.extend(f"    {item}" for item in items[:shown])
                if len(items) > shown:
                    lines.append(f"    ... and {len(items) - shown} more")
            elif title in (_UNUSABLE, "mislabelled") or (title == "missing" and self.listed):
                lines.append(f"  {title}: none")
        return "\n".join(lines)


def verify(
    name: str, root: str | os.PathLike | None = None, *, data_dir: str | os.PathLike | None = None
) -> VerifyReport:
    """Verify the copy of corpus ``name`` at ``root`` (default: the cache folder's copy).

    Raises:
        InputError: no such folder, or no root and no cached copy.
    """
    spec = get_corpus(name)
    root = find_copy(spec, root, cache.data_dir(data_dir))
    scan = scan_corpus(spec, root)
    report = VerifyReport(
        spec=spec,
        root=root,
        counts=scan.label_counts(),
        speakers=scan.speaker_counts(),
        extra=list(scan.extra),
        mislabelled=list(scan.mislabelled),
        notes=list(scan.notes),
    )
    listed = expected_keys(spec)  # a full design, or the file list of the archive (EmoDB): missing files are named
    if listed is not None:
        report.listed = True
        report.missing = sorted(listed - scan.found.keys())
    if spec.expected_keys is not None:  # a full design also says which names cannot be the corpus's
        outside = sorted(scan.found.keys() - spec.expected_keys())
        report.extra += [Problem(scan.found[key].path, "not in the corpus's design") for key in outside]
    for key, item in scan.found.items():
        problem = audio_problem(item.path, is_video=spec.is_video) or (None if spec.is_video else _decode_problem(item.path))
        if key in spec.known_bad:  # expected to be bad: reported, but the copy is still complete
            report.known_bad.append(Problem(item.path, "; ".join(filter(None, (spec.known_bad[key], problem)))))
        elif problem:
            report.unreadable.append(Problem(item.path, problem))
    return report


def _decode_problem(path: Path) -> str | None:
    """Why the decoded audio of ``path`` is unusable (truncated, silent, non-finite ...), or ``None``."""
    try:
        read_audio(path)
    except AudioFault as fault:
        return fault.reason
    return None
