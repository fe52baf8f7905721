"""What `pip install .` ships: the container installs the project this way (not editable), so a
folder or data file pyproject.toml forgets is missing there while every editable checkout works.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _config() -> dict:
    with open(REPO / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


def _source_folders(config: dict) -> dict[str, Path]:
    """Every folder holding files under the top-level packages, by its installed dotted name."""
    package_dir = config.get("package-dir", {})
    tops = [name for name in config["packages"] if "." not in name]
    roots = {name: REPO / package_dir.get(name, name) for name in tops}
    folders = {}
    for top, root in roots.items():
        for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
            if folder.name == "__pycache__" or "__pycache__" in folder.parts:
                continue
            if any(f.is_file() for f in folder.iterdir()):
                relative = folder.relative_to(root).parts
                folders[".".join((top, *relative))] = folder
    return folders


def test_every_folder_with_files_is_a_declared_package():
    config = _config()
    declared = set(config["packages"])
    found = set(_source_folders(config))
    assert found - declared == set(), "folders setuptools would ignore: add them to packages"
    assert declared - found == set(), "packages declared in pyproject.toml with no folder"


def test_every_data_file_is_declared_as_package_data():
    config = _config()
    package_data = config.get("package-data", {})
    missing = []
    for name, folder in _source_folders(config).items():
        patterns = package_data.get(name, []) + package_data.get("*", [])
        for path in folder.iterdir():
            if path.is_file() and path.suffix not in (".py", ".pyc"):
                if not any(fnmatch(path.name, pattern) for pattern in patterns):
                    missing.append(str(path.relative_to(REPO)))
    assert missing == [], "files pip install . would leave out: declare them in package-data"
