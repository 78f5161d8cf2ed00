"""Virtual devices for the technician's tests: tagsim device in a process of its own,
tagctl against its console, and a stop that lets it clean up."""

import subprocess
import sys

from host_sim.paths import ROOT


def tagctl(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "host_sim.tagctl", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def stop(device: subprocess.Popen[str]) -> None:
    """A virtual device still running (a failed test): SIGTERM, so it removes its folder and key."""
    if device.poll() is None:
        device.terminate()
        try:
            device.wait(timeout=30)
        except subprocess.TimeoutExpired:
            device.kill()
