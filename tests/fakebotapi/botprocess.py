"""Run the real bot as a subprocess against the fake Bot API, without ever leaking it.

End-to-end tests need the bot exactly as users run it (``python -m bot run``): its own
process, signals, exit codes and logs.  :class:`BotProcess` starts it with a test
environment, waits until it is really polling the fake, and always cleans up.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .driver import FakeBotApi

REPO_ROOT = Path(__file__).resolve().parents[2]
STANDIN_BOT_SCRIPT = Path(__file__).resolve().with_name("standin_bot.py")
_LIVE_PROCESSES: weakref.WeakSet[BotProcess] = weakref.WeakSet()


class BotProcessError(RuntimeError):
    """The bot process failed to start or stop; the message carries its log output."""


class BotProcess:
    """``python -m bot run`` (or any ``command``) as a managed child process.

    Use it as a context manager so that a failing test still ends the process::

        with BotProcess(env) as bot:
            bot.start(wait_for_polling=api)
            ...
    """

    def __init__(
        self,
        env: Mapping[str, str],
        args: Sequence[str] = ("run",),
        cwd: str | os.PathLike[str] | None = None,
        *,
        module: str = "bot",
        command: Sequence[str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.env = dict(env)
        self.command = (
            list(command) if command is not None else [sys.executable, "-m", module, *args]
        )
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._owns_log = log_path is None
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="botprocess-", suffix=".log")
            os.close(handle)
            log_path = name
        self.log_path = Path(log_path)
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    # -- lifecycle --------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        merged = dict(os.environ)
        merged.update(self.env)
        merged.setdefault("PYTHONUNBUFFERED", "1")
        # The fake lives on loopback: never route it through a proxy from the environment.
        for name in ("NO_PROXY", "no_proxy"):
            existing = merged.get(name, "")
            merged[name] = ",".join(filter(None, [existing, "127.0.0.1", "localhost"]))
        return merged

    def start(
        self, wait_for_polling: FakeBotApi | None = None, timeout: float | None = None
    ) -> BotProcess:
        """Start the process; with ``wait_for_polling`` wait until it calls getUpdates."""
        if self.running:
            raise BotProcessError("the bot process is running already")
        mark = wait_for_polling.call_count() if wait_for_polling is not None else 0
        self._starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"--- start #{self._starts}: {' '.join(self.command)}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _LIVE_PROCESSES.add(self)
        if wait_for_polling is not None:
            self._wait_for_polling(wait_for_polling, mark, timeout or self.startup_timeout)
        return self

    def _wait_for_polling(self, api: FakeBotApi, mark: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if api.calls("getUpdates", after=mark):
                return
            code = self.poll()
            if code is not None:
                raise BotProcessError(
                    f"the bot exited with code {code} before polling; its output:\n{self.logs()}"
                )
            if time.monotonic() >= deadline:
                self.kill()
                raise BotProcessError(
                    f"the bot did not call getUpdates within {timeout}s; its output:\n"
                    f"{self.logs()}\n{api.describe()}"
                )
            time.sleep(0.02)

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, wait (then SIGKILL if it hangs); return the exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout or self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._kill_group(process)
                process.wait()
                self._forget()
                raise BotProcessError(
                    f"the bot ignored SIGTERM for {timeout or self.stop_timeout}s and was "
                    f"killed; its output:\n{self.logs()}"
                ) from None
        self._kill_group(process)  # children it may have left behind
        self._forget()
        return process.returncode

    def kill(self) -> int | None:
        """SIGKILL the process (and its process group), as a crash would."""
        process = self._process
        if process is None:
            return None
        self._kill_group(process)
        process.wait()
        self._forget()
        return process.returncode

    def restart(
        self, wait_for_polling: FakeBotApi | None = None, *, hard: bool = False
    ) -> BotProcess:
        """Stop (or kill, with ``hard``) and start again with the same environment."""
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start(wait_for_polling)

    @staticmethod
    def _kill_group(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    def _forget(self) -> None:
        self._last_returncode = self._process.returncode if self._process else None
        self._process = None
        _LIVE_PROCESSES.discard(self)

    def close(self) -> None:
        """Stop the process if needed and delete the log file this object created."""
        try:
            if self.running:
                self.stop()
            elif self._process is not None:
                self.kill()
        finally:
            if self._owns_log:
                with contextlib.suppress(FileNotFoundError):
                    self.log_path.unlink()

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        if exc_type is not None:
            # pytest shows captured output of failed tests: make the bot's log part of it.
            sys.stdout.write(f"--- output of {' '.join(self.command)} ---\n{self.logs()}\n")
        self.close()

    # -- inspection -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def poll(self) -> int | None:
        return None if self._process is None else self._process.poll()

    @property
    def returncode(self) -> int | None:
        if self._process is not None:
            return self._process.poll()
        return getattr(self, "_last_returncode", None)

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit by itself; return its exit code."""
        if self._process is None:
            raise BotProcessError("the bot process is not running")
        code = self._process.wait(timeout)
        self._forget()
        return code

    def logs(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""


@atexit.register
def _kill_leftover_processes() -> None:
    """Last line of defence: never leave a bot process running after the test session."""
    for process in list(_LIVE_PROCESSES):
        with contextlib.suppress(Exception):
            process.kill()
