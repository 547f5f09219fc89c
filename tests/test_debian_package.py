"""tools/debian-package, the one install recipe of `make browser`, `make postgres` and
`make test-spark`: root installs with apt-get, CI without root fails, anyone else gets a
note (or, --required, an error). Run with stand-ins for `id` and `apt-get` first on PATH,
so every path is exercised without root, network or a real install."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from barometre.common.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "tools" / "debian-package"


def _run(
    tmp_path: Path, *args: str, uid: int, ci: str | None = None, apt_status: int = 0
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "apt-calls"
    (bin_dir / "id").write_text(f'#!/bin/sh\n[ "$1" = -u ] && echo {uid}\n')
    (bin_dir / "apt-get").write_text(
        f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> {calls}\nexit {apt_status}\n'
    )
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DEBIAN_FRONTEND")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    made = calls.read_text().splitlines() if calls.exists() else []
    return result, made


ARGS = ("chromium", "false", "the report's browser tests", "browser")


@pytest.mark.parametrize("uid", [0, 1000])
def test_an_installed_package_is_left_alone(tmp_path: Path, uid: int) -> None:
    result, apt = _run(tmp_path, "chromium", "true", "the tests", "browser", uid=uid, ci="true")
    assert (result.returncode, result.stdout, result.stderr, apt) == (0, "", "", [])


def test_root_installs_it_with_apt_get(tmp_path: Path) -> None:
    result, apt = _run(tmp_path, *ARGS, uid=0, ci="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "installing Debian's chromium for the report's browser tests\n"
    assert apt == [" update -qq", "noninteractive install -y -qq chromium"]


def test_a_failed_install_fails(tmp_path: Path) -> None:
    result, apt = _run(tmp_path, *ARGS, uid=0, apt_status=100)
    assert result.returncode != 0
    assert apt == [" update -qq"]  # nothing installed after a failed update


def test_ci_without_root_is_an_error_never_a_skip(tmp_path: Path) -> None:
    result, apt = _run(tmp_path, *ARGS, uid=1000, ci="true")
    assert result.returncode == 1 and apt == []
    assert result.stderr == (
        "error: chromium is missing and apt-get needs root; "
        "the report's browser tests must run in CI\n"
    )


@pytest.mark.parametrize("ci", [None, ""])
def test_anyone_else_is_told_how_and_the_tests_skip(tmp_path: Path, ci: str | None) -> None:
    result, apt = _run(tmp_path, *ARGS, uid=1000, ci=ci)
    assert result.returncode == 0 and apt == []
    assert result.stdout == (
        "note: chromium is not installed (sudo apt-get install chromium, or make browser "
        "as root); the report's browser tests will be skipped\n"
    )


@pytest.mark.parametrize("ci", [None, "true"])
def test_a_required_package_is_an_error_without_root(tmp_path: Path, ci: str | None) -> None:
    args = ("--required", "openjdk-17-jre-headless", "false", "Spark (Java 17)", "test-spark")
    result, apt = _run(tmp_path, *args, uid=1000, ci=ci)
    assert result.returncode == 1 and apt == []
    assert "error: Spark (Java 17) needs openjdk-17-jre-headless: sudo apt-get install" in (
        result.stderr
    )
    result, apt = _run(tmp_path, *args, uid=0, ci=ci)
    assert result.returncode == 0 and apt[-1].endswith("install -y -qq openjdk-17-jre-headless")


def test_wrong_arguments_say_the_usage(tmp_path: Path) -> None:
    result, apt = _run(tmp_path, "chromium", uid=0)
    assert result.returncode == 2 and apt == []
    assert "usage: tools/debian-package" in result.stderr


def test_the_makefile_installs_through_it_only() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "apt-get install" not in makefile
    for target in ("browser", "postgres", "test-spark"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert re.search(rf"^\t@tools/debian-package .* {target}$", recipe, re.M), target
