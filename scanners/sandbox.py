"""Run an untrusted command in a bubblewrap sandbox with resource limits.

The only place Yardstick executes a scanned repository's code (the opt-in deep scan). Each
run gets:
- an unprivileged uid: the worker's own when it is not root; a dedicated uid
  (`YARDSTICK_SANDBOX_UID`, default 61000) when it is, and bwrap's own user namespace;
- a fresh root with a read-only view of the system (`/usr`, a few files of `/etc`), the
  paths the caller mounts (the scratch copy of the checkout writable), a size-limited
  `/tmp`, new pid/ipc/uts/net namespaces (network only when asked), no nested namespaces;
- rlimits through `prlimit`: CPU seconds, address space, processes, file size, open files;
- a wall-clock limit and an output limit enforced here (the whole sandbox is killed).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

GIB, MIB = 1024**3, 1024**2
DEFAULT_SANDBOX_UID = 61000
#: Files of /etc a toolchain needs (TLS roots, DNS, users, the dynamic loader cache).
ETC_FILES = (
    "ssl", "ca-certificates", "resolv.conf", "hosts", "nsswitch.conf", "passwd", "group",
    "localtime", "ld.so.cache", "alternatives", "mime.types",
)  # fmt: skip


#: Runs the command as its child inside the sandbox and reports the peak RSS of the
#: processes it waited for on an inherited pipe the command itself never sees.
MEASURE = (
    "import os,resource,sys\n"
    "fd=int(sys.argv[1]); os.set_inheritable(fd, False)\n"
    "pid=os.fork()\n"
    "if pid==0:\n"
    "    os.execv(sys.argv[2], sys.argv[2:])\n"
    "status=os.waitpid(pid,0)[1]\n"
    "os.write(fd, str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss).encode())\n"
    "code=os.waitstatus_to_exitcode(status)\n"
    "sys.exit(128 - code if code < 0 else code)\n"
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap or prlimit is missing, or the sandbox cannot reach what it needs."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one sandboxed command."""

    wall_s: float = 600.0
    cpu_s: int = 600
    memory_bytes: int = 4 * GIB  # address space of each process
    processes: int = 256
    file_bytes: int = 512 * MIB  # largest file a process may write
    output_bytes: int = 4 * MIB  # stdout + stderr; more stops the run
    open_files: int = 1024
    tmp_bytes: int = 512 * MIB  # size of the sandbox's /tmp


@dataclass(frozen=True, slots=True)
class Mount:
    """A host path made visible at `dest` inside the sandbox."""

    source: Path
    dest: str
    writable: bool = False


@dataclass(slots=True)
class Run:
    """What a sandboxed command did."""

    exit_code: int | None  # None when it was killed
    output: str
    wall_s: float
    peak_rss_kb: int
    killed: str | None = None  # "time limit" / "output limit" / "signal N"

    @property
    def ok(self) -> bool:
        """Exited 0 by itself."""
        return self.exit_code == 0 and self.killed is None


@dataclass
class Sandbox:
    """Sandbox factory: where mirrors of unreachable host paths live, and who runs inside."""

    runtime_dir: Path
    uid: int | None = field(default=None)
    #: Interpreter that runs the measuring wrapper inside the sandbox (mounted read-only).
    python: Path = field(default_factory=lambda: Path(sys.base_prefix) / "bin" / "python3")

    def __post_init__(self) -> None:
        self.bwrap = shutil.which("bwrap")
        self.prlimit = shutil.which("prlimit")
        self.nice = shutil.which("nice")
        if self.bwrap is None or self.prlimit is None:
            raise SandboxUnavailable(
                "the deep scan needs bubblewrap and prlimit (apt-get install bubblewrap)"
            )
        if self.uid is None and os.geteuid() == 0:
            self.uid = int(os.environ.get("YARDSTICK_SANDBOX_UID", DEFAULT_SANDBOX_UID))

    # ----- host paths the sandbox uid can reach -----------------------------------------
    def reachable(self, path: Path) -> bool:
        """Whether the sandbox uid can traverse to `path` (other-execute on every parent)."""
        if self.uid is None:
            return True
        return all(p.stat().st_mode & 0o001 for p in Path(path).resolve().parents)

    def expose(self, path: Path) -> Path:
        """`path`, or a hard-linked mirror of it the sandbox uid can reach (made once)."""
        path = Path(path).resolve()
        if self.reachable(path):
            return path
        mirror = self.runtime_dir / "mirror" / hashlib.sha256(str(path).encode()).hexdigest()[:16]
        done = mirror.with_suffix(".done")
        if not done.exists():
            shutil.rmtree(mirror, ignore_errors=True)
            mirror.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(mirror.parent, 0o755)  # noqa: S103 - the sandbox uid must traverse it
            if path.is_dir():
                shutil.copytree(path, mirror, symlinks=True, copy_function=_link_or_copy)
            else:
                _link_or_copy(str(path), str(mirror))
            done.touch()
        if not self.reachable(mirror):
            raise SandboxUnavailable(f"{mirror} is not reachable by uid {self.uid}")
        return mirror

    def give(self, path: Path) -> None:
        """Hand a scratch folder to the sandbox uid (recursively), when it is not ours."""
        if self.uid is None:
            return
        for root, dirs, files in os.walk(path):
            os.lchown(root, self.uid, self.uid)
            for name in dirs + files:
                os.lchown(os.path.join(root, name), self.uid, self.uid)

    # ----- running ----------------------------------------------------------------------
    def argv(
        self, command: Sequence[str], mounts: Sequence[Mount], cwd: str, env: Mapping[str, str],
        limits: Limits, network: bool,
    ) -> list[str]:  # fmt: skip
        """The full prlimit + bwrap command line."""
        out = [
            str(self.prlimit),
            f"--cpu={limits.cpu_s}",
            f"--as={limits.memory_bytes}",
            f"--nproc={limits.processes}",
            f"--fsize={limits.file_bytes}",
            f"--nofile={limits.open_files}",
            "--core=0",
            "--",
            *([self.nice, "-n", "19"] if self.nice else []),  # static scans on the host come first
            str(self.bwrap),
            "--unshare-all",
            *(["--share-net"] if network else []),
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            "--clearenv",
            "--ro-bind",
            "/usr",
            "/usr",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(limits.tmp_bytes),
            "--tmpfs",
            "/tmp",  # noqa: S108 - the sandbox's own tmpfs
        ]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / name
            if host.is_symlink():
                out += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                out += ["--ro-bind", str(host), str(host)]
        for name in ETC_FILES:
            out += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for mount in mounts:
            if mount.writable and not self.reachable(mount.source):
                raise SandboxUnavailable(f"{mount.source} is not reachable by uid {self.uid}")
            source = str(mount.source if mount.writable else self.expose(mount.source))
            out += ["--bind" if mount.writable else "--ro-bind", source, mount.dest]
        for key, value in env.items():
            out += ["--setenv", key, value]
        return [*out, "--remount-ro", "/", "--chdir", cwd, *command]

    def run(
        self, command: Sequence[str], *, mounts: Sequence[Mount], cwd: str,
        env: Mapping[str, str], limits: Limits, network: bool = False,
    ) -> Run:  # fmt: skip
        """Run `command` inside the sandbox; never raises for anything the command does."""
        python = self.python.resolve()
        read_end, write_end = os.pipe()
        mounts = [*mounts, Mount(python.parents[1], str(python.parents[1]))]
        wrapped = [str(python), "-I", "-S", "-c", MEASURE, str(write_end), *command]
        try:
            argv = self.argv(wrapped, mounts, cwd, env, limits, network)
        except BaseException:
            os.close(read_end)
            os.close(write_end)
            raise
        started = time.monotonic()
        proc = subprocess.Popen(  # noqa: S603 - a fixed command line built above
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            user=self.uid,
            group=self.uid,
            extra_groups=[] if self.uid is not None else None,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        deadline = started + limits.wall_s
        output, killed = _collect(proc, deadline, limits.output_bytes)
        status, _, late = _reap(proc, deadline)
        os.set_blocking(read_end, False)
        with os.fdopen(read_end, "rb") as peak_pipe:
            peak = (peak_pipe.read(32) or b"").decode("ascii", "replace")
        code: int | None = os.waitstatus_to_exitcode(status)
        killed = killed or ("time limit" if late else None)
        if killed is None and code is not None and code < 0:
            killed = f"signal {signal.Signals(-code).name}"
        if killed is not None:
            code = None
        wall = time.monotonic() - started
        peak_kb = int(peak) if peak.isdigit() else 0
        return Run(code, output.decode("utf-8", "replace"), wall, peak_kb, killed)


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # bwrap's group; its sandbox dies with it


def _collect(proc: subprocess.Popen[bytes], deadline: float, cap: int) -> tuple[bytes, str | None]:
    """Read the output until EOF; kill the sandbox at the deadline or past `cap` bytes."""
    if proc.stdout is None:  # pragma: no cover - always a pipe here
        raise SandboxUnavailable("no output pipe")
    chunks: list[bytes] = []
    size = 0
    killed: str | None = None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                killed = "time limit"
                break
            if not selector.select(timeout=min(remaining, 1.0)):
                continue
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                break
            size += len(data)
            if size > cap:
                chunks.append(data[: max(0, cap - (size - len(data)))])
                killed = "output limit"
                break
            chunks.append(data)
    if killed is not None:
        _kill(proc)
    proc.stdout.close()
    return b"".join(chunks), killed


def _reap(
    proc: subprocess.Popen[bytes], deadline: float
) -> tuple[int, resource.struct_rusage, bool]:
    """wait4() the sandbox (its rusage carries the peak RSS of everything it reaped)."""
    late = False
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, rusage, late
        if not late and time.monotonic() > deadline:
            _kill(proc)
            late = True
        time.sleep(0.02)
