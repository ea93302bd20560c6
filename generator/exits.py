"""How every entry point ends: the exit codes, and the one handler that turns what a command
raised into a message and one of them.

The CLI (each command), the exec plugin, the KRM function and the Helm post-renderer all run
their work through `guarded`; only what to do with a user's problems differs (print located
messages, or also answer with a ResourceList), so that is the one thing an entry point passes.
Stdlib only: the exec plugin's cached path imports this without msgspec, YAML or click.
"""

from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which a cached build does not need
if TYPE_CHECKING:
    from typing import Callable, TextIO

    from generator.errors import UserError

#: Exit codes, documented in docs/reference.md.
EXIT_OK = 0
EXIT_USER = 1  # the input or the environment is wrong: the message says where and how to fix it
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


def guarded(work: Callable[[], int | None], err: TextIO, report: Callable[[UserError], None],
            passes: tuple[type[BaseException], ...] = ()) -> int:
    """Run `work` and say how it ended: its own code, or 1 after `report` showed the user's problems.

    Never a traceback: a bug is one line naming only the exception's type (its text could
    hold a value). `passes` are exceptions the caller handles itself (click's usage errors).
    """
    try:
        return work() or EXIT_OK
    except passes:
        raise
    except KeyboardInterrupt:  # Ctrl-C: the user knows; no traceback, the shell's usual code
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of stdout left (`| head`, kustomize stopped): nothing to say
        _drop_stdout()
        return EXIT_USER
    except OSError as exc:  # the environment, not a bug: stdout closed, a full disk, a file the system refuses
        reason = exc.strerror or type(exc).__name__
        if exc.filename is None:  # writes to stdout name no file
            err.write(f"conngen: error: cannot write the output ({reason})\n")
        else:  # a path the user gave (never a value), cut as messages cut quoted values
            name = str(exc.filename)
            err.write(f"conngen: error: {name if len(name) <= 80 else name[:79] + '…'}: {reason}\n")
        return EXIT_USER
    except Exception as exc:  # noqa: BLE001
        from generator.errors import UserError

        if not isinstance(exc, UserError):
            err.write(f"conngen: internal error ({type(exc).__name__}); please report it\n")
            return EXIT_BUG
        report(exc)
        return EXIT_USER


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a file descriptor (a test's StringIO): nothing to flush
        pass
