"""Work done ahead by a second process while this one goes on: for large inputs, on a second CPU.

At 10,000 registries and builds, parsing the config takes as long as parsing and checking
the catalog, and rendering most Jobs as long as reading the credential files, rendering the
Secrets and the other Jobs; in each pair, neither needs the other (read/ahead.py,
render/builtin.py). A forked child does one side and writes its result to an anonymous file
in memory (never a disk: a config may hold a literal credential); the parent reads it when
it needs it. Nothing else comes back: when the child fails for any reason, the parent does
the work itself, so every problem is found and reported exactly as without a child. Only on
Linux (`os.fork`, `os.memfd_create`), with a second CPU, for work large enough to pay for a fork.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: the plugin's every build imports this module
if TYPE_CHECKING:
    from typing import IO, Callable


def worth_it(size: int, minimum: int) -> bool:
    """Whether work of `size` (at least `minimum`) is worth a second process on this machine."""
    if size < minimum or not hasattr(os, "fork") or not hasattr(os, "memfd_create"):  # Linux
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus > 1


class Child:
    """`work(file)` run in a forked child from now on; `result` waits for it and gives the file it wrote."""

    def __init__(self, work: Callable[[IO[bytes]], None]) -> None:
        self._file: IO[bytes] | None = None
        try:  # in memory, never on a disk: a config's parse may hold a literal credential
            file = open(os.memfd_create("conngen-ahead", os.MFD_CLOEXEC), "w+b")
        except OSError:  # a sandbox that refuses it: no child, the caller does the work
            return
        try:
            self._pid = os.fork()
        except OSError:
            file.close()
            return
        self._file = file
        if self._pid == 0:  # the child: never returns, never runs the parent's exit handlers
            code = 1
            try:
                work(file)
                file.flush()
                code = 0
            finally:
                os._exit(code)

    def result(self) -> IO[bytes] | None:
        """What the child wrote, from its start (None if it failed: then the caller does the work)."""
        file, self._file = self._file, None
        if file is None:
            return None
        _, status = os.waitpid(self._pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            file.close()
            return None
        file.seek(0)
        return file

    def cancel(self) -> None:
        """Stop the child; nothing it wrote is used."""
        if self._file is not None:
            import signal

            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._file.close()
            self._file = None
