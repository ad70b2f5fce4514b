"""The Dockerfile and the package list stay true to the tree (Docker can't be built here)."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_python_package_is_in_the_distribution():
    packages = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("engine", "app", "backprop_playground")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk == packages


def test_everything_the_dockerfile_copies_exists():
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, flags=re.M):
        for source in sources.split():
            assert (ROOT / source).exists(), source


def test_the_container_installs_the_wheel_from_the_lock_and_needs_no_folder_settings():
    assert "--require-hashes -r requirements/run.txt" in DOCKERFILE
    assert "pip wheel" in DOCKERFILE and "--no-deps /tmp/wheels/*.whl" in DOCKERFILE
    assert not re.search(r"BACKPROP_\w+_DIR", DOCKERFILE)


def test_the_container_runs_the_console_command_as_a_non_root_user_on_all_interfaces():
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, flags=re.M)
    command = re.search(r'^CMD \["([^"]+)"', DOCKERFILE, flags=re.M).group(1)
    assert command in PYPROJECT["project"]["scripts"]
    assert '"--host", "0.0.0.0", "--port", "8000"' in DOCKERFILE
    assert "EXPOSE 8000" in DOCKERFILE
