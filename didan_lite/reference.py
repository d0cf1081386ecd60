"""Reference results: the benchmark's many-seed comparison, shipped with the package, behind every small run.

Notebook: notebooks/05_ida_vs_mmd.ipynb shows the reference verdicts first, then the student's own run.

A notebook's fast run has one or two seeds: too few for a verdict. The
benchmark (``benchmarks/cross_corpus.py``) runs many seeds; its per-run figures
are stored, small and versioned, in ``didan_lite/reference_results/<task>.json``
(written by ``benchmarks/make_reference.py``), with where they came from
(command, commit, date, machine, mode). Only scalar per-run rows are stored: no
features, no audio, nothing derived from a licence-gated recording.

File format (JSON)::

    {"format": 1, "task": "B-C", "emotions": ["anger", ...],
     "provenance": {"command": ..., "commit": ..., "date": ..., "machine": ..., "mode": ..., "note": ...},
     "runs": [{"method": "ida", "seed": 31, "target_uar": 0.35, "source_heldout_uar": 0.64, ...}, ...]}

The run rows carry the keys of ``metrics.json``'s ``runs`` (UARs as fractions in
[0, 1]) without the epoch histories.

Examples::

    reference = load_reference("B-C")
    reference.table()                        # mean +- sd target UAR, paired difference to source-only with its interval
    [v.sentence() for v in reference.verdicts()]
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from didan_lite.errors import InputError
from didan_lite.verdicts import PairedVerdict, as_table, paired_table, paired_verdict

REFERENCE_DIR = Path(__file__).parent / "reference_results"
"""Where the package's reference files live (package data)."""
FORMAT = 1
"""Version of the file format above."""
PROVENANCE_KEYS = ("command", "commit", "date", "machine", "mode")
"""What every reference file must say about where its numbers came from."""


@dataclass(frozen=True, eq=False)
class ReferenceResult:
    """The benchmark's runs of one task and their provenance."""

    task: str
    runs: pd.DataFrame
    """One row per (method, seed): column ``task``, then the keys of ``metrics.json``'s runs (UARs in [0, 1])."""
    provenance: dict = field(default_factory=dict)
    """command, commit, date, machine, mode (and a note when there is one)."""
    emotions: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.emotions)

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys(self.runs["method"]))

    def verdicts(self, baseline: str = "source-only") -> list[PairedVerdict]:
        """Every other method against ``baseline``, by the paired rule of :mod:`didan_lite.verdicts`."""
        return [paired_verdict(self.runs, m, baseline=baseline, n_classes=self.n_classes)
                for m in self.methods if m != baseline]

    def table(self, baseline: str = "source-only") -> pd.DataFrame:
        """Per method: runs, mean and sd of target UAR (%), paired difference to ``baseline`` (points) with its
        95 % interval and the verdict (:func:`didan_lite.verdicts.paired_table`)."""
        return paired_table(self.runs, self.n_classes, baseline=baseline)

    def describe(self) -> str:
        """One line on where the numbers came from."""
        p = self.provenance
        note = f" {p['note']}" if p.get("note") else ""
        commit = str(p["commit"])
        commit = commit[:10] if re.fullmatch(r"[0-9a-f]{40}", commit) else commit
        return (f"Reference {self.task}: {len(self.runs)} runs ({', '.join(self.methods)}), {p['mode']} mode, "
                f"{p['date']}, commit {commit}, {p['machine']}; command: {p['command']}.{note}")


    def cite(self) -> str:
        """One short line for a notebook: what the reference is and a link to its full provenance (command,
        commit, machine, note), e.g. ``Reference B-C: 5 seeds x 4 methods, full mode, 2026-12-03; provenance:
        https://github.com/.../didan_lite/reference_results/B-C.json``."""
        p = self.provenance
        link = reference_url(self.task)
        return (f"Reference {self.task}: {self.runs['seed'].nunique()} seeds x {len(self.methods)} methods "
                f"({', '.join(self.methods)}), {p['mode']} mode, {str(p['date'])[:10]}"
                + (f"; provenance: {link}" if link else "; provenance: describe()"))


def reference_url(task: str, branch: str = "main") -> str | None:
    """Where the reference file of ``task`` can be read on the web: the installed package's ``Repository`` address
    (``[project.urls]`` of pyproject.toml) + ``/blob/<branch>/didan_lite/reference_results/<task>.json``; ``None``
    when the installed metadata names no repository."""
    from importlib import metadata

    try:
        urls = metadata.metadata("didan-lite").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    repository = next((url.split(",", 1)[1].strip() for url in urls if url.split(",", 1)[0].strip() == "Repository"), None)
    return f"{repository.rstrip('/')}/blob/{branch}/didan_lite/reference_results/{task}.json" if repository else None


def available_references() -> list[str]:
    """Tasks with a reference file shipped in the package, e.g. ``["B-C", "C-B", "synthetic"]``."""
    return sorted(path.stem for path in REFERENCE_DIR.glob("*.json"))


def load_reference(task: str) -> ReferenceResult:
    """The shipped reference of ``task`` (one of :func:`available_references`).

    Raises:
        InputError: no reference for this task, or a damaged file.
    """
    if not isinstance(task, str) or not task or Path(task).name != task:
        raise InputError(f"Reference task {task!r} is not a task name; available: {', '.join(available_references())}.")
    path = REFERENCE_DIR / f"{task}.json"
    if not path.is_file():
        raise InputError(f"No reference result for task {task!r}; available: {', '.join(available_references()) or 'none'}.")
    reference = read_reference(path)
    if reference.task != task:
        raise InputError(f"{path} says it holds task {reference.task!r}, not {task!r}; "
                         "write it again with benchmarks/make_reference.py.")
    return reference


def reference_runs(*tasks: str, methods: list[str] | None = None) -> pd.DataFrame:
    """The shipped runs of several tasks in one table (column ``task``), for verdicts pooled over tasks;
    only ``methods`` when given, e.g. ``reference_runs("B-C", "C-B", methods=["source-only", "ida"])``."""
    runs = pd.concat([load_reference(task).runs for task in tasks], ignore_index=True)
    return runs if methods is None else runs[runs["method"].isin(methods)].reset_index(drop=True)


def read_record(path: str | Path, fmt: int, keys: Sequence[str], what: str, advice: str) -> dict:
    """A versioned JSON record with a provenance (a reference result, a pretrained sidecar), its keys checked.

    Raises:
        InputError: unreadable, not an object of format ``fmt``, or lacking one of ``keys`` or of the
            :data:`PROVENANCE_KEYS`; the message names ``path`` and ends with ``advice``.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path} cannot be read as {what} ({type(error).__name__}: {error}); {advice}.") from error
    if not isinstance(record, dict) or record.get("format") != fmt:
        raise InputError(f"{path}: not {what} of format {fmt}; {advice}.")
    missing = [k for k in keys if k not in record]
    provenance = record.get("provenance")
    missing += [f"provenance.{k}" for k in PROVENANCE_KEYS if not isinstance(provenance, dict) or k not in provenance]
    if missing:
        raise InputError(f"{path}: lacks {', '.join(missing)}; {advice}.")
    return record


def read_reference(path: str | Path) -> ReferenceResult:
    """A reference file anywhere (the format in this module's docstring).

    Raises:
        InputError: the file is not a reference file of this format, naming what is wrong.
    """
    advice = "write it with benchmarks/make_reference.py"
    record = read_record(path, FORMAT, ("task", "emotions", "provenance", "runs"), "a reference result", advice)
    _check_record(path, record, advice)
    runs = pd.DataFrame(record["runs"]).drop(columns="task", errors="ignore")
    runs.insert(0, "task", record["task"])
    try:
        as_table(runs)
    except ValueError as error:
        raise InputError(f"{path}: {error}.") from error
    return ReferenceResult(record["task"], runs, dict(record["provenance"]), tuple(record["emotions"]))


def _check_record(path: Path, record: dict, advice: str) -> None:
    """The whole record, at load: a task name, two or more distinct emotions, a list of run objects each with a
    method, a whole seed and a finite target UAR, and each (method, seed) once.

    Raises:
        InputError: naming ``path`` and the first fault.
    """
    def fault(what: str) -> InputError:
        return InputError(f"{path}: {what}; {advice}.")

    emotions, runs = record["emotions"], record["runs"]
    if not isinstance(record["task"], str) or not record["task"]:
        raise fault(f"'task' is {record['task']!r}, not a task name")
    if not isinstance(emotions, list) or len(emotions) < 2 or not all(isinstance(e, str) for e in emotions) \
            or len(set(emotions)) != len(emotions):
        raise fault(f"'emotions' is {emotions!r}, not a list of two or more distinct emotions")
    if not isinstance(runs, list) or not runs or not all(isinstance(run, dict) for run in runs):
        raise fault(f"'runs' is a {type(runs).__name__}, not a non-empty list of run objects")
    seen = set()
    for number, run in enumerate(runs, 1):
        target, seed = run.get("target_uar"), run.get("seed")
        if not isinstance(run.get("method"), str) or isinstance(seed, bool) or not isinstance(seed, int):
            raise fault(f"run {number} lacks a method name or a whole-number seed ({run.get('method')!r}, {seed!r})")
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target):
            raise fault(f"run {number} ({run['method']}, seed {seed}) has target_uar {target!r}, not a number")
        if (run["method"], seed) in seen:
            raise fault(f"({run['method']}, seed {seed}) appears more than once; give each run once")
        seen.add((run["method"], seed))


def reference_record(paths: Sequence[str | Path | tuple[Path, dict]], task: str, **provenance: str) -> dict:
    """A reference file's content from the benchmark's outputs: ``metrics.json`` of ``didan-lite compare`` (one
    task) or ``results.json`` of ``benchmarks/cross_corpus.py`` (its entry ``tasks[task]``), several merged. An
    output may also be given already read, as ``(its path, its content)`` in either form.

    Provenance is read from the outputs (``command``, ``commit``, ``date`` or ``date_started``, ``machine``,
    ``mode``; ``precision`` when recorded); keyword arguments override it, and what neither gives is
    "not recorded". Epoch histories and other non-scalar values are left out.

    Raises:
        InputError: an unreadable output, a task it lacks, different emotions, or a (method, seed) twice.
    """
    runs: list[dict] = []
    emotions: list[str] | None = None
    found: dict[str, list[str]] = {}
    for output in paths:
        path, record = output if isinstance(output, tuple) else (Path(output), None)
        try:
            record = json.loads(path.read_text(encoding="utf-8")) if record is None else record
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: cannot read a benchmark output ({error}).") from error
        if "tasks" in record:  # results.json of benchmarks/cross_corpus.py
            if task not in record["tasks"]:
                raise InputError(f"{path}: no task {task!r}; it has {', '.join(record['tasks'])}.")
            entry = record["tasks"][task]
            sibling = path.parent / task / "metrics.json"
            names = entry.get("class_names") or (json.loads(sibling.read_text(encoding="utf-8"))["class_names"]
                                                 if sibling.is_file() else None)
        elif "runs" in record:  # metrics.json of one comparison
            entry, names = record, record.get("class_names")
        else:
            raise InputError(f"{path}: neither a metrics.json nor a results.json (no 'runs', no 'tasks').")
        if names is None:
            raise InputError(f"{path}: the emotions of task {task!r} are not recorded (nor in {path.parent / task}/metrics.json).")
        if emotions is not None and list(names) != emotions:
            raise InputError(f"{path}: emotions {names} differ from {emotions} of the other outputs.")
        emotions = list(names)
        runs += [{k: v for k, v in run.items() if isinstance(v, (str, int, float, bool)) or v is None}
                 for run in entry["runs"]]
        machine = record.get("machine")
        if isinstance(machine, dict):
            machine = ", ".join(f"{k} {v}" for k, v in machine.items() if v is not None)
        settings = record.get("settings", {})
        for key, value in (("command", record.get("command")), ("commit", record.get("commit")),
                           ("date", record.get("date") or record.get("date_started")), ("machine", machine),
                           ("mode", record.get("mode") or settings.get("mode")),
                           ("precision", record.get("precision") or settings.get("precision"))):
            if value is not None and str(value) not in found.setdefault(key, []):
                found[key].append(str(value))
    seen = [(run.get("method"), run.get("seed")) for run in runs]
    twice = sorted({key for key in seen if seen.count(key) > 1}, key=str)
    if twice:
        raise InputError(f"(method, seed) {twice[0]} appears in more than one output; give each run once.")
    merged = {key: "; ".join(values) for key, values in found.items()}
    merged.update({k: v for k, v in provenance.items() if v is not None})
    merged = {**{k: merged.get(k, "not recorded") for k in PROVENANCE_KEYS}, **merged}
    return {"format": FORMAT, "task": task, "emotions": emotions, "provenance": merged, "runs": runs}


__all__ = ["FORMAT", "REFERENCE_DIR", "ReferenceResult", "available_references", "load_reference", "read_reference",
           "reference_record", "reference_runs"]
