"""The source tree is the package as it is imported: run from the repository root, the folder
needle_router/ shadows an installed wheel, so it must hold every subpackage itself (pyproject's
old package-dir mapped adapters/ and policies/ from beside it, and `import needle_router` failed
there with a non-editable install)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_a_folder_of_needle_router_and_listed() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "package-dir" not in setuptools
    listed = set(setuptools["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "needle_router").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert listed == on_disk  # nothing mapped from elsewhere, nothing left out of the wheel


def test_the_root_folder_imports_as_the_whole_package() -> None:
    code = (
        "import needle_router, needle_router.adapters, needle_router.policies\n"
        "print(needle_router.adapters.__file__); print(needle_router.policies.__file__)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    for line in res.stdout.split():
        assert Path(line).resolve().is_relative_to(ROOT / "needle_router"), line
