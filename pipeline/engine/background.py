"""Child processes for export steps that wait on the kernel or on SQLite: a JSON task in, a JSON result out.

`Child("pipeline.module:function", task)` runs `function(task)` in a fresh interpreter while the
build goes on, and `result()` returns what it returned or raises `PipelineError` with its error.
Threads would not do: the driver's Python work holds the GIL, and a thread that gives it up for
every copied fragment or inserted row would wait up to a switch interval (5 ms) to get it back.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline.errors import PipelineError

# Below these sizes a child's start-up (a fresh interpreter, about 0.1-0.2 s) costs more than the
# overlap saves: the work is done in the build's own process instead. Tests set them to 0.
MIN_ROWS = 50_000
MIN_BYTES = 32 << 20

# The folder holding the `pipeline` package: the child imports this copy of the code, whatever
# the installed one is.
_ROOT = str(Path(__file__).resolve().parents[2])


class Child:
    """`function(task)` running in a child process; a context manager that kills it unless it finished."""

    def __init__(self, target: str, task, pass_fds: tuple[int, ...] = ()) -> None:
        self.target = target
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
        # The task goes through an unnamed file, not a pipe: a large task would block the
        # driver until the child has started and read it.
        with tempfile.TemporaryFile() as task_file:
            task_file.write(json.dumps(task).encode("utf-8"))
            task_file.seek(0)
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "pipeline.engine.background", target, str(os.getpid())],
                    stdin=task_file,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                    pass_fds=pass_fds,
                )
            except OSError as exc:
                raise PipelineError(f"cannot start a child process for {target}: {exc.strerror}") from exc
        self.done = False

    def result(self):
        """Wait for the child; its function's result, or PipelineError with the error it reported."""
        out, err = self.proc.communicate()
        self.done = True
        if self.proc.returncode != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            raise PipelineError(
                f"{self.target} failed in its child process: {lines[-1] if lines else f'exit code {self.proc.returncode}'}"
            )
        return json.loads(out)

    def kill(self) -> None:
        """Stop the child unless it finished, and wait for it."""
        if self.done:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()
        self.done = True

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def _die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGKILL when the build dies: a killed build must leave no writer behind."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # died before the request
        os._exit(1)


def main(argv: list[str]) -> None:
    target, parent = argv
    _die_with_parent(int(parent))
    module, function = target.split(":")
    task = json.loads(sys.stdin.buffer.read())
    result = getattr(importlib.import_module(module), function)(task)
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
