"""Several ``python app.py`` on one database, started at the same moment, as a deployment starts them."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.portal_process import ROOT, clean_environment, free_port

START_SECONDS = 90  # several instances importing NiceGUI at once on two cores


@dataclass(frozen=True)
class Instance:
    name: str
    url: str
    port: int
    data_dir: Path
    output: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def _spawn(
    name: str, base: Path, settings: dict[str, str], demo: bool, stack: ExitStack, port: int = 0
) -> Instance:
    data_dir = base / name
    output = base / f"{name}-output.txt"
    port = port or free_port()
    log = stack.enter_context(output.open("w"))
    flags = ["--demo"] if demo else []
    process = subprocess.Popen(
        [sys.executable, "app.py", *flags, "--port", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=clean_environment(**settings),
    )
    return Instance(name, f"http://127.0.0.1:{port}", port, data_dir, output, process)


def _stop(instance: Instance) -> None:
    instance.process.terminate()
    try:
        instance.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        instance.process.kill()
        instance.process.wait()


def wait_until_ready(instances: list[Instance], *, seconds: float = START_SECONDS) -> None:
    """Until each instance answers /readyz with 200; fails naming one that exited or stayed unready."""
    pending = list(instances)
    deadline = time.monotonic() + seconds
    while pending:
        for instance in list(pending):
            if instance.process.poll() is not None:
                pytest.fail(
                    f"instance {instance.name} exited with {instance.process.returncode}:\n{instance.log()}"
                )
            try:
                if httpx.get(f"{instance.url}/readyz", timeout=2).status_code == 200:
                    pending.remove(instance)
            except httpx.TransportError:
                pass
        if pending and time.monotonic() > deadline:
            late = pending[0]
            pytest.fail(f"instance {late.name} was not ready within {seconds:.0f} s:\n{late.log()}")
        if pending:
            time.sleep(0.2)


@contextmanager
def instances(
    count: int,
    base: Path,
    *,
    settings: dict[str, str],
    demo: bool = False,
    ports: list[int] | None = None,
) -> Iterator[list[Instance]]:
    """``count`` portals, each with its own port and data folder under ``base``, all started at once with
    ``settings`` (the database URL among them); stopped at the end. Not waited for (``wait_until_ready``)."""
    with ExitStack() as stack:
        started: list[Instance] = []
        try:
            for index in range(count):
                port = ports[index] if ports else 0
                started.append(_spawn(f"instance-{index + 1}", base, settings, demo, stack, port))
            yield started
        finally:
            for instance in started:
                instance.process.terminate()
            for instance in started:
                _stop(instance)
