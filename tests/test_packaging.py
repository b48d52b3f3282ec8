"""The installed wheel, outside the repository: ``scrapy list`` with the project's settings
module, ``newsarchive --help``, and ``newsarchive demo`` without SeaweedFS (one line saying
what to install, no traceback).

The wheel is built from this tree (``uv build``) and installed into a fresh virtual
environment: the locked dependencies without the dev group or extras (``uv sync
--no-install-project`` into another environment, from uv's cache: no network), then the
wheel itself with ``--no-deps``. The commands run from an empty directory with a clean
environment, so neither ``scrapy.cfg`` nor the repository is in reach.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from newsarchive.cli import COMMANDS
from tests.helpers import ROOT

pytestmark = pytest.mark.slow


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.skip("uv is not installed (the packaging test builds and installs with it)")
    return found


def run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel, a fresh environment holding it, and an empty working directory."""
    base = tmp_path_factory.mktemp("packaging")
    build_env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}
    built = run([uv(), "build", "--wheel", "--offline", "--out-dir", str(base / "dist")], cwd=ROOT, env=build_env)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("newsarchive-*.whl")
    venv = base / "venv"
    deps = run(
        [uv(), "sync", "--locked", "--offline", "--no-dev", "--no-install-project", "--quiet"],
        cwd=ROOT,
        env={**build_env, "UV_PROJECT_ENVIRONMENT": str(venv)},
    )
    assert deps.returncode == 0, deps.stderr[-3000:]
    python = venv / "bin" / "python"
    wheel_install = run(
        [uv(), "pip", "install", "--offline", "--no-deps", "--quiet", "--python", str(python), str(wheel)],
        cwd=base,
        env=build_env,
    )
    assert wheel_install.returncode == 0, wheel_install.stderr[-3000:]
    empty = base / "elsewhere"
    empty.mkdir()
    return {"wheel": wheel, "bin": venv / "bin", "cwd": empty}


def clean_env(installed: dict[str, Path], **extra: str) -> dict[str, str]:
    """Only the fresh environment on PATH (no weed binary of the dev environment), nothing
    pointing back at the repository."""
    home = installed["cwd"]
    return {"PATH": f"{installed['bin']}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **extra}


def test_the_wheel_holds_the_packages_and_the_dag_files(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"newsarchive", "spiders", "pipelines"}
    dags = sorted(p.name for p in (ROOT / "dags").glob("*.py"))
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("newsarchive/_dags/")) == dags
    metadata = (
        zipfile.ZipFile(installed["wheel"]).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    )
    assert "Provides-Extra: demo" in metadata and "moto" not in metadata


def test_scrapy_list_works_from_the_installed_wheel_outside_the_repository(installed):
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    env = clean_env(installed)
    where = run(
        [
            str(installed["bin"] / "python"),
            "-c",
            "import newsarchive, spiders, pipelines; print(newsarchive.__file__, spiders.__file__, pipelines.__file__)",
        ],
        cwd=installed["cwd"],
        env=env,
    )
    assert where.returncode == 0, where.stderr
    paths = [Path(p) for p in where.stdout.split()]
    assert all(p.is_relative_to(installed["bin"].parent) for p in paths), paths  # the install, not the repo
    assert not any(p.is_relative_to(ROOT) for p in paths)
    listed = run(
        [str(installed["bin"] / "scrapy"), "list"],
        cwd=installed["cwd"],
        env={**env, "SCRAPY_SETTINGS_MODULE": "newsarchive.settings"},
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr[-3000:]
    settings = Settings()
    settings.setmodule("newsarchive.settings")
    assert listed.stdout.split() == sorted(SpiderLoader.from_settings(settings).list())


def test_newsarchive_help_and_demo_without_seaweedfs_from_the_installed_wheel(installed):
    env = clean_env(installed)
    helped = run([str(installed["bin"] / "newsarchive"), "--help"], cwd=installed["cwd"], env=env)
    assert helped.returncode == 0, helped.stderr[-3000:]
    assert all(name in helped.stdout for name in COMMANDS)
    demo = run([str(installed["bin"] / "newsarchive"), "demo"], cwd=installed["cwd"], env=env)
    assert demo.returncode == 2
    assert "Traceback" not in demo.stderr and demo.stdout == ""
    (line,) = demo.stderr.splitlines()
    assert "SeaweedFS" in line and "pip install 'newsarchive[demo]'" in line
    assert not (installed["cwd"] / "archive").exists()  # nothing started, nothing written
