"""Refresh tests/colab_constraints.txt from one commit of Colab's published package lists.

Usage (one line, where GitHub can be reached)::

    python tests/refresh_colab_constraints.py COMMIT --date YYYY-MM-DD

reads ``pip-freeze.gpu.txt`` and ``os-info-gpu.txt`` of github.com/googlecolab/backend-info at
``COMMIT`` (``--freeze``/``--os-info`` take local copies instead) and rewrites, in place, the
constraints file's ``# Snapshot:`` and ``# Python:`` lines and the version of every pin, keeping its
comments, order and the packages it lists. A listed package that the snapshot lacks stops it with one
``error:`` line (exit 2): look that package up and move it to a ``# not on Colab:`` line.
"""

from __future__ import annotations

import argparse
import re
import sys
import urllib.request
from pathlib import Path

from packaging.utils import canonicalize_name

CONSTRAINTS = Path(__file__).resolve().parent / "colab_constraints.txt"
RAW = "https://raw.githubusercontent.com/googlecolab/backend-info/{commit}/{name}"
_PIN = re.compile(r"([A-Za-z0-9_.-]+)==(\S+)")


def colab_versions(freeze: str) -> dict[str, str]:
    """Canonical name -> version of a ``pip freeze`` listing (local labels such as ``+cu128`` dropped)."""
    versions = {}
    for line in freeze.splitlines():
        match = _PIN.fullmatch(line.strip())
        if match:
            versions[canonicalize_name(match[1])] = match[2].split("+")[0]
    return versions


def colab_python(os_info: str) -> str:
    """``3.13`` from os-info's ``Python 3.13.5`` line."""
    match = re.search(r"^Python (\d+\.\d+)", os_info, re.MULTILINE)
    if match is None:
        raise ValueError("os-info-gpu.txt has no 'Python X.Y' line")
    return match[1]


def refreshed(constraints: str, freeze: str, os_info: str, commit: str, date: str) -> str:
    """The constraints file's text with its snapshot line, Python line and pins taken from the snapshot.

    Raises:
        ValueError: a pinned package that the snapshot does not list (one line naming it).
    """
    versions = colab_versions(freeze)
    lines = []
    for line in constraints.splitlines():
        match = _PIN.fullmatch(line.strip())
        if line.startswith("# Snapshot:"):
            line = f"# Snapshot: {date}, commit {commit}"
        elif line.startswith("# Python:"):
            line = f"# Python: {colab_python(os_info)}"
        elif match and not line.startswith("#"):
            name = canonicalize_name(match[1])
            if name not in versions:
                raise ValueError(f"{match[1]} is pinned but not in Colab's list at {commit}; move it to a '# not on Colab:' line")
            line = f"{match[1]}=={versions[name]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("commit", help="commit of googlecolab/backend-info")
    parser.add_argument("--date", required=True, help="the snapshot's date, YYYY-MM-DD (its commit date)")
    parser.add_argument("--freeze", type=Path, help="local copy of pip-freeze.gpu.txt (default: fetched)")
    parser.add_argument("--os-info", type=Path, help="local copy of os-info-gpu.txt (default: fetched)")
    parser.add_argument("--constraints", type=Path, default=CONSTRAINTS)
    args = parser.parse_args(argv)
    try:
        texts = [path.read_text() if path else _fetch(args.commit, name)
                 for path, name in ((args.freeze, "pip-freeze.gpu.txt"), (args.os_info, "os-info-gpu.txt"))]
        text = refreshed(args.constraints.read_text(), *texts, args.commit, args.date)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.constraints.write_text(text)
    print(f"{args.constraints.name}: refreshed from backend-info {args.commit} ({args.date})")
    return 0


def _fetch(commit: str, name: str) -> str:
    with urllib.request.urlopen(RAW.format(commit=commit, name=name), timeout=30) as response:
        return response.read().decode()


if __name__ == "__main__":
    sys.exit(main())
