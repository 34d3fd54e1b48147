"""Atomic saves, and the cleanup of temporary files that killed saves leave behind.

A save writes ``.{name}.{machine}.{pid}.{random}.chainrule-tmp`` beside the target, flushes it
to disk (fsync), renames it over the target (``os.replace``) and syncs the directory, so a crash
at any point leaves either the old file or the new one. An exception removes the temporary; a
process killed outright (SIGKILL, power loss) cannot, so each save first removes the temporaries
of the same target whose writer is gone. A temporary is removed only when

    its ``machine`` (a hash of the host name and, on Linux, the PID namespace) is this one's,
    because a process ID means nothing on another machine sharing the directory (NFS); and
    no process with its ``pid`` exists here (``os.kill(pid, 0)`` finds none).

So a save never removes the temporary of a writer that is still running, even one saving to
the same target at the same moment; a stale temporary whose PID has been reused by a live
process stays until that process ends; temporaries written on another machine are left to
that machine's next save. Where PIDs cannot be checked this way (Windows), nothing is removed.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import zlib

TEMPORARY_SUFFIX = ".chainrule-tmp"
_STEM_BYTES = 150           # keeps the temporary's name under the 255-byte limit of most file systems


def write_atomically(target: str, write) -> None:
    """Call ``write(binary file)`` on a temporary beside ``target``, then move it over ``target``."""
    directory, base = os.path.split(target)
    stem = _stem(base)
    remove_stale_temporaries(directory, stem)
    temporary = os.path.join(directory, f".{stem}.{machine_id()}.{os.getpid()}.{secrets.token_hex(8)}"
                                        f"{TEMPORARY_SUFFIX}")
    # 0o666 less the umask: the new file gets the permissions a plain open() would give it
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _stem(base: str) -> str:
    """The target's name, shortened (a character at a time) to at most _STEM_BYTES bytes."""
    stem = base
    while len(os.fsencode(stem)) > _STEM_BYTES:
        stem = stem[:-1]
    return stem


def machine_id() -> str:
    """8 hex digits naming this host and PID namespace: where a PID in a temporary's name is meaningful."""
    identity = socket.gethostname()
    try:
        identity += os.readlink("/proc/self/ns/pid")
    except OSError:
        pass
    return f"{zlib.crc32(identity.encode('utf-8', 'surrogateescape')):08x}"


def remove_stale_temporaries(directory: str, stem: str) -> list[str]:
    """Remove this target's temporaries whose writer has died (see the module docstring); their names."""
    if os.name != "posix":
        return []
    pattern = re.compile(re.escape(f".{stem}.{machine_id()}.") + r"([0-9]{1,10})\.[0-9a-f]{16}"
                         + re.escape(TEMPORARY_SUFFIX))
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    removed = []
    for name in names:
        match = pattern.fullmatch(name)
        if match is None or process_exists(int(match.group(1))):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:          # removed by another save meanwhile, or not ours to remove: leave it
            continue
        removed.append(name)
    return removed


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists here (a zombie counts); True when unsure."""
    if pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):   # PermissionError: it exists, owned by someone else
        return True
    return True


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
