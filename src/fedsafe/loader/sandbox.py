"""Confining a process that is about to run untrusted code.

A dataset definition is arbitrary Python written by someone else. Inside a backend it must not
see database credentials, reach the network or read the data directly: its only way to touch the
data is the query model it hands back, which trusted code checks and compiles. The same
confinement will serve analysis actions, so it lives here on its own, with no knowledge of
definitions.

Confinement is in layers, each of which holds even if another is missing:

* the environment is built from an allow-list (:func:`child_environment`), so secrets passed in
  environment variables never reach the child;
* the process gives up privileges for good (``PR_SET_NO_NEW_PRIVS``, every capability dropped),
  so nothing it runs can regain them, not even a set-user-ID program;
* it moves into a new, empty network namespace: no interface but a loopback that is down
  (as an ordinary user, inside a new user namespace, where the kernel allows that);
* Landlock limits the filesystem to reading the Python runtime, the system libraries and the
  project, and writing a private temporary folder; from ABI 4 on it also refuses TCP bind and
  connect, and from ABI 6 on it cannot signal processes or reach abstract Unix sockets outside;
* a seccomp filter refuses to create Unix-domain sockets (a database listening on a socket file,
  such as PostgreSQL's, is not behind a network namespace or Landlock's file rules) and refuses
  ``io_uring``, which could otherwise create sockets without the ``socket`` system call.

Everything here is Linux-specific and uses only ``ctypes`` so that it adds no dependency.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import struct
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SYSTEM_READ_PATHS",
    "SandboxPolicy",
    "SandboxStatus",
    "apply_sandbox",
    "child_environment",
    "landlock_abi_version",
    "python_runtime_paths",
]

# ---------------------------------------------------------------------------------------------
# Policy


# Files and folders outside the Python runtime that an ordinary Python program reads: shared
# libraries, time zones, certificates, the user database. The rest of /etc is left out because
# an operator's configuration (and its secrets) is usually somewhere in it.
SYSTEM_READ_PATHS: tuple[str, ...] = (
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/mime.types",
    "/etc/locale.alias",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/dev/null",
    "/dev/zero",
    "/dev/random",
    "/dev/urandom",
    "/proc/self",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/sys/devices/system/cpu",
    # Memory and CPU limits: DuckDB (and other runtimes) size themselves from these and abort
    # if they cannot be read.
    "/sys/fs/cgroup",
)

# Always writable in addition to the policy's own folders (reads and writes go nowhere).
_SYSTEM_WRITE_FILES: tuple[str, ...] = ("/dev/null",)


@dataclass(frozen=True)
class SandboxPolicy:
    """What a confined process may touch on the filesystem.

    ``read_paths`` may be read (and executed) beneath; ``write_paths`` may also be written,
    created in and deleted from beneath. Paths that do not exist are ignored, so one policy
    fits machines laid out differently.
    """

    read_paths: tuple[Path, ...]
    write_paths: tuple[Path, ...] = ()

    @classmethod
    def for_python(
        cls, *, read: Iterable[Path | str] = (), write: Iterable[Path | str] = ()
    ) -> SandboxPolicy:
        """A policy for a Python process: its runtime and the system, plus the given folders."""
        reads = [*python_runtime_paths(), *(Path(p) for p in SYSTEM_READ_PATHS)]
        reads += [Path(p) for p in read]
        return cls(read_paths=_unique(reads), write_paths=_unique(Path(p) for p in write))


def python_runtime_paths() -> tuple[Path, ...]:
    """Where this interpreter loads code from: its prefixes and every ``sys.path`` entry.

    Real paths are used because Landlock rules attach to the file a path resolves to.
    """
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    candidates += [entry for entry in sys.path if entry]
    candidates.append(os.path.dirname(os.path.realpath(sys.executable)))
    return _unique(Path(os.path.realpath(c)) for c in candidates)


def _unique(paths: Iterable[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(paths))


def child_environment(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The complete environment for a confined child: an allow-list, never a copy of ours.

    Copying our environment and deleting known secrets would leak whichever secret nobody
    thought of; building it from nothing leaks none.
    """
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(home),
        "TMPDIR": str(home),
        "PYTHONHASHSEED": "0",
    }
    env.update(extra or {})
    return env


def make_private_home() -> Path:
    """A fresh folder, readable only by us, to serve as a child's HOME and TMPDIR."""
    return Path(tempfile.mkdtemp(prefix="fedsafe-sandbox-"))


# ---------------------------------------------------------------------------------------------
# Applying it


@dataclass(frozen=True)
class SandboxStatus:
    """Which layers of confinement are in force, and what could not be applied."""

    landlock_abi: int | None
    network_namespace: bool
    capabilities_dropped: bool
    seccomp: bool
    warnings: tuple[str, ...] = ()

    @property
    def files_confined(self) -> bool:
        return self.landlock_abi is not None


LANDLOCK_UNAVAILABLE_WARNING = (
    "warning: file isolation is unavailable on this kernel (Landlock is not supported or not "
    "enabled), so the dataset definition can read any file this user can read; environment "
    "variables are still withheld and network access is still blocked where possible"
)


def apply_sandbox(policy: SandboxPolicy) -> SandboxStatus:
    """Confine the calling process for the rest of its life, and its children's.

    Call it in the child, after reading its instructions and before running untrusted code.
    Nothing here can be undone. Layers the kernel does not offer are reported in the returned
    status rather than raised, so that a laptop without Landlock can still develop; the caller
    shows the warnings.
    """
    if not sys.platform.startswith("linux"):
        return SandboxStatus(
            None,
            False,
            False,
            False,
            ("warning: process isolation is only available on Linux; running unconfined",),
        )
    libc = ctypes.CDLL(None, use_errno=True)
    warnings: list[str] = []

    # First, so that nothing started from here on can gain privileges (set-user-ID programs,
    # file capabilities); Landlock and seccomp also require it of an unprivileged process.
    if _prctl(libc, _PR_SET_NO_NEW_PRIVS, 1) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")

    network_namespace = _enter_empty_network_namespace(libc)
    if not network_namespace:
        warnings.append(
            "warning: could not create an empty network namespace "
            f"({os.strerror(ctypes.get_errno())}); TCP is still refused where Landlock "
            "allows, but other network traffic is not"
        )

    capabilities_dropped = _drop_capabilities(libc)

    abi = landlock_abi_version(libc)
    if abi is None:
        warnings.append(LANDLOCK_UNAVAILABLE_WARNING)
    else:
        _apply_landlock(libc, abi, policy)

    seccomp = _apply_seccomp(libc)
    if not seccomp:
        warnings.append(
            "warning: could not install the system call filter; Unix-domain sockets stay open"
        )
    return SandboxStatus(abi, network_namespace, capabilities_dropped, seccomp, tuple(warnings))


# ---------------------------------------------------------------------------------------------
# Network namespace


def _enter_empty_network_namespace(libc: ctypes.CDLL) -> bool:
    """Move into a new network namespace, which has no interface but a loopback that is down.

    Root may do so directly. Anyone else needs a new user namespace too, where the kernel
    allows unprivileged ones; mapping our own IDs into it keeps file ownership looking as
    before to the program.
    """
    if os.geteuid() == 0:
        return libc.unshare(_CLONE_NEWNET) == 0
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        return False
    with contextlib.suppress(OSError):
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    return True


# ---------------------------------------------------------------------------------------------
# Capabilities

_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _drop_capabilities(libc: ctypes.CDLL) -> bool:
    """Give up every capability, and the right to regain any, so root is an ordinary user.

    With no-new-privileges set, even running a program as root cannot restore them.
    """
    for cap in range(64):
        if _prctl(libc, _PR_CAPBSET_DROP, cap) != 0:
            if ctypes.get_errno() == errno.EINVAL:  # past the last capability this kernel has
                break
            if ctypes.get_errno() == errno.EPERM:  # we never had CAP_SETPCAP: nothing to drop
                break
    header = struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two {effective, permitted, inheritable} sets, all empty
    header_buf = ctypes.create_string_buffer(header, len(header))
    data_buf = ctypes.create_string_buffer(data, len(data))
    return _syscall(libc, _SYSCALLS["capset"], header_buf, data_buf) == 0


# ---------------------------------------------------------------------------------------------
# Landlock (see Documentation/userspace-api/landlock.rst in the Linux sources)

# The three Landlock system calls have the same numbers on every architecture that has them.
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
_LANDLOCK_RULE_PATH_BENEATH = 1

_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REMOVE_DIR = 1 << 4
_FS_REMOVE_FILE = 1 << 5
_FS_MAKE_CHAR = 1 << 6
_FS_MAKE_DIR = 1 << 7
_FS_MAKE_REG = 1 << 8
_FS_MAKE_SOCK = 1 << 9
_FS_MAKE_FIFO = 1 << 10
_FS_MAKE_BLOCK = 1 << 11
_FS_MAKE_SYM = 1 << 12
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5

_NET_BIND_TCP = 1 << 0  # ABI 4
_NET_CONNECT_TCP = 1 << 1  # ABI 4

_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
_SCOPE_SIGNAL = 1 << 1  # ABI 6

# The rights that may be granted on a file rather than a folder.
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV


def _fs_rights(abi: int) -> int:
    """Every filesystem right the kernel's ABI knows: any right left out stays allowed.

    A kernel newer than this code may know rights added after ABI 7; they stay allowed until
    they are added here, so check each new Landlock ABI when it appears.
    """
    rights = (1 << 13) - 1  # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def landlock_abi_version(libc: ctypes.CDLL | None = None) -> int | None:
    """The Landlock ABI version the running kernel offers, or None if it offers none."""
    if not sys.platform.startswith("linux"):
        return None
    libc = libc or ctypes.CDLL(None, use_errno=True)
    version = _syscall(
        libc, _SYS_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION
    )
    return version if version > 0 else None


def _prctl(libc: ctypes.CDLL, option: int, *args: object) -> int:
    """Call ``prctl(2)`` with unused arguments zero, as the kernel requires for some options."""
    padded = [ctypes.c_ulong(a) if isinstance(a, int) else a for a in args]
    padded += [ctypes.c_ulong(0)] * (4 - len(padded))
    return int(libc.prctl(ctypes.c_int(option), *padded))


def _syscall(libc: ctypes.CDLL, number: int, *args: object) -> int:
    """Call ``syscall(2)`` passing integers as full-width longs, as the kernel reads them.

    ``syscall`` is variadic, so a plain Python int would be passed as a C ``int`` whose upper
    half is undefined.
    """
    converted = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    libc.syscall.restype = ctypes.c_long
    return int(libc.syscall(ctypes.c_long(number), *converted))


def _apply_landlock(libc: ctypes.CDLL, abi: int, policy: SandboxPolicy) -> None:
    handled_fs = _fs_rights(abi)
    # struct landlock_ruleset_attr grew a field at ABI 4 (net) and ABI 6 (scoped); pass the
    # size this kernel knows so an older kernel does not refuse a longer struct.
    if abi >= 6:
        scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL
        attr = struct.pack("QQQ", handled_fs, _NET_BIND_TCP | _NET_CONNECT_TCP, scoped)
    elif abi >= 4:
        attr = struct.pack("QQ", handled_fs, _NET_BIND_TCP | _NET_CONNECT_TCP)
    else:
        attr = struct.pack("Q", handled_fs)
    attr_buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset_fd = _syscall(libc, _SYS_LANDLOCK_CREATE_RULESET, attr_buf, len(attr), 0)
    if ruleset_fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        read_rights = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
        # Writing covers everything but making device files, which no user code needs.
        write_rights = handled_fs & ~(_FS_MAKE_CHAR | _FS_MAKE_BLOCK)
        for path in policy.read_paths:
            _add_path_rule(libc, ruleset_fd, path, read_rights & handled_fs)
        for path in policy.write_paths:
            _add_path_rule(libc, ruleset_fd, path, write_rights)
        for path in _SYSTEM_WRITE_FILES:
            file_rights = _FS_READ_FILE | _FS_WRITE_FILE | _FS_TRUNCATE
            _add_path_rule(libc, ruleset_fd, Path(path), file_rights & handled_fs)
        if _syscall(libc, _SYS_LANDLOCK_RESTRICT_SELF, ruleset_fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset_fd)


def _add_path_rule(libc: ctypes.CDLL, ruleset_fd: int, path: Path, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not on this machine: nothing to allow
    try:
        if not os.path.isdir(f"/proc/self/fd/{fd}"):
            rights &= _FILE_RIGHTS  # the kernel refuses folder rights on a file
        # struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
        attr = struct.pack("=Qi", rights, fd)
        attr_buf = ctypes.create_string_buffer(attr, len(attr))
        added = _syscall(
            libc, _SYS_LANDLOCK_ADD_RULE, ruleset_fd, _LANDLOCK_RULE_PATH_BENEATH, attr_buf, 0
        )
        if added != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# seccomp

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_AF_UNIX = 1
_X32_SYSCALL_BIT = 0x40000000

# BPF instruction classes and modes used below.
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06

_ARCHES = {
    # machine: (AUDIT_ARCH_*, system call numbers)
    "x86_64": (0xC000003E, {"socket": 41, "io_uring_setup": 425, "capset": 126}),
    "aarch64": (0xC00000B7, {"socket": 198, "io_uring_setup": 425, "capset": 91}),
}
_ARCH = _ARCHES.get(platform.machine())
_SYSCALLS = _ARCH[1] if _ARCH else {"capset": -1}


def _apply_seccomp(libc: ctypes.CDLL) -> bool:
    if _ARCH is None:
        return False
    audit_arch, numbers = _ARCH
    deny = _SECCOMP_RET_ERRNO | errno.EACCES

    def insn(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    program = b"".join(
        [
            insn(_BPF_LD_W_ABS, 0, 0, 4),  # 0: A = seccomp_data.arch
            insn(_BPF_JEQ_K, 0, 7, audit_arch),  # 1: another ABI (32-bit calls): deny
            insn(_BPF_LD_W_ABS, 0, 0, 0),  # 2: A = seccomp_data.nr
            insn(_BPF_JGE_K, 5, 0, _X32_SYSCALL_BIT),  # 3: x32 system calls: deny
            insn(_BPF_JEQ_K, 4, 0, numbers["io_uring_setup"]),  # 4: deny
            insn(_BPF_JEQ_K, 0, 2, numbers["socket"]),  # 5: socket: check family
            insn(_BPF_LD_W_ABS, 0, 0, 16),  # 6: A = args[0] (the address family)
            insn(_BPF_JEQ_K, 1, 0, _AF_UNIX),  # 7: AF_UNIX: deny
            insn(_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),  # 8
            insn(_BPF_RET_K, 0, 0, deny),  # 9
        ]
    )
    filters = ctypes.create_string_buffer(program, len(program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(program) // 8, ctypes.cast(filters, ctypes.c_void_p))
    return _prctl(libc, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog)) == 0
