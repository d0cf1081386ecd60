"""environment.yml (conda, exact pins) and pyproject.toml (lower bounds) name the same packages."""

from __future__ import annotations

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from conftest import REPO


def _pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += [s for s in extra if not s.startswith("didan-lite")]
    return {Requirement(s).name.lower(): Requirement(s) for s in specs}


def _conda_pins() -> dict[str, Version]:
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    pins = {}
    for line in pip_section:
        if line.startswith("-"):  # -e ., --extra-index-url
            continue
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s]+)", line).groups()
        pins[name.lower()] = Version(version)
    return pins


def test_environment_yml_pins_exactly_the_pyproject_packages():
    assert set(_conda_pins()) == set(_pyproject_requirements())


def test_every_pin_satisfies_the_lower_bound():
    requirements = _pyproject_requirements()
    for name, version in _conda_pins().items():
        assert requirements[name].specifier.contains(version), f"{name}=={version} violates {requirements[name]}"


def test_pyproject_has_lower_bounds_only():
    for requirement in _pyproject_requirements().values():
        assert all(spec.operator == ">=" for spec in requirement.specifier), f"{requirement}: lower bounds only"
