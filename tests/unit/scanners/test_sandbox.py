"""The sandbox survives a hostile suite: loops, fork bombs, memory hogs, floods, escapes."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from scanners.sandbox import MIB, Limits, Mount, Run, Sandbox

pytestmark = pytest.mark.requires_bwrap

PYTHON = Path(sys.base_prefix) / "bin" / "python3"
SMALL = Limits(wall_s=20, cpu_s=20, memory_bytes=1024 * MIB, processes=64, output_bytes=MIB)


@pytest.fixture
def work() -> Iterator[Path]:
    """A scratch folder the sandbox uid can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="yardstick-sandbox-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def sandbox(work: Path) -> Sandbox:
    """A sandbox whose mirrors live in a folder the sandbox uid can reach."""
    return Sandbox(work / "runtime")


def run_python(
    sandbox: Sandbox, code: str, limits: Limits = SMALL, mounts: Sequence[Mount] = ()
) -> Run:
    """Run Python code in the sandbox (the interpreter mounted read-only)."""
    return sandbox.run(
        [str(PYTHON.resolve()), "-c", code], mounts=mounts, cwd="/", env={}, limits=limits
    )


def test_a_well_behaved_command_runs_as_an_unprivileged_user(sandbox: Sandbox) -> None:
    run = run_python(sandbox, "import os; print(os.getuid(), os.getgid(), sorted(os.listdir('/')))")
    assert run.ok, run
    uid, gid, *_ = run.output.split()
    assert int(uid) != 0
    assert int(gid) != 0
    assert "home" not in run.output  # only the mounts the sandbox was given
    assert run.peak_rss_kb > 1000


def test_an_infinite_loop_is_killed_at_the_time_limit(sandbox: Sandbox) -> None:
    started = time.monotonic()
    run = run_python(sandbox, "while True: pass", Limits(wall_s=2, cpu_s=60))
    assert run.killed == "time limit"
    assert run.exit_code is None
    assert time.monotonic() - started < 10


def test_a_sleeping_loop_that_closes_its_output_is_still_killed(sandbox: Sandbox) -> None:
    code = "import os, time; os.close(1); os.close(2)\nwhile True: time.sleep(1)"
    run = run_python(sandbox, code, Limits(wall_s=2))
    assert run.killed == "time limit"


def test_cpu_time_is_limited_per_process(sandbox: Sandbox) -> None:
    run = run_python(sandbox, "while True: pass", Limits(wall_s=30, cpu_s=1))
    assert run.exit_code in (128 + signal.SIGXCPU, 128 + signal.SIGKILL), run
    assert run.wall_s < 20


def test_a_fork_bomb_hits_the_process_limit_and_the_sandbox_ends(sandbox: Sandbox) -> None:
    code = (
        "import os, time\n"
        "failed = 0\n"
        "for _ in range(10000):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30); os._exit(0)\n"
        "    except OSError:\n"
        "        failed += 1\n"
        "print('forks refused:', failed > 0, flush=True)\n"
    )
    started = time.monotonic()
    run = run_python(sandbox, code, Limits(wall_s=15, processes=32))
    assert "forks refused: True" in run.output, run
    # the parent exits, and with it the pid namespace: the sleeping children die too
    assert time.monotonic() - started < 15


def test_a_memory_hog_gets_memory_error(sandbox: Sandbox) -> None:
    code = (
        "chunks = []\n"
        "try:\n"
        "    while True: chunks.append(bytearray(64 * 1024 * 1024))\n"
        "except MemoryError:\n"
        "    print('refused after', len(chunks) * 64, 'MiB')\n"
    )
    run = run_python(sandbox, code, Limits(wall_s=30, memory_bytes=512 * MIB))
    assert run.ok, run
    assert "refused after" in run.output
    assert int(run.output.split()[2]) < 512


def test_gigabytes_of_output_stop_at_the_output_limit(sandbox: Sandbox) -> None:
    code = "import sys\nline = 'x' * 1023 + '\\n'\nwhile True: sys.stdout.write(line)"
    started = time.monotonic()
    run = run_python(sandbox, code, Limits(wall_s=30, output_bytes=2 * MIB))
    assert run.killed == "output limit"
    assert len(run.output) <= 2 * MIB
    assert time.monotonic() - started < 20


def test_a_huge_file_stops_at_the_file_size_limit(sandbox: Sandbox, work: Path) -> None:
    scratch = work / "scratch"
    scratch.mkdir()
    sandbox.give(scratch)
    code = (
        "try:\n"
        "    with open('/scratch/big', 'wb') as f:\n"
        "        while True: f.write(b'x' * 1048576)\n"
        "except OSError as exc:\n"
        "    print('refused', exc.errno)\n"
    )
    run = run_python(
        sandbox,
        code,
        Limits(wall_s=30, file_bytes=8 * MIB),
        mounts=[Mount(scratch, "/scratch", True)],
    )
    assert (scratch / "big").stat().st_size <= 8 * MIB
    assert run.killed == "signal SIGXFSZ" or "refused" in run.output


def test_no_network_without_it_and_no_route_out(sandbox: Sandbox) -> None:
    code = (
        "import socket\n"
        "print([n for _, n in socket.if_nameindex()])\n"
        "for host in ('pypi.org', '1.1.1.1'):\n"
        "    try:\n"
        "        socket.create_connection((host, 443), timeout=3)\n"
        "        print('connected')\n"
        "    except OSError as exc:\n"
        "        print('refused', type(exc).__name__)\n"
    )
    run = run_python(sandbox, code)
    assert run.ok, run
    assert "['lo']" in run.output
    assert "connected" not in run.output
    assert run.output.count("refused") == 2


def test_files_outside_the_sandbox_cannot_be_read_or_written(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret", encoding="utf-8")
    secret.chmod(0o644)  # readable by anyone on the host, yet invisible in the sandbox
    code = (
        f"import os\n"
        f"for path in ({str(secret)!r}, '/root/.bashrc', '/etc/shadow', '/proc/1/environ'):\n"
        f"    try:\n"
        f"        print(path, open(path).read()[:20])\n"
        f"    except OSError as exc:\n"
        f"        print(path, 'refused', type(exc).__name__)\n"
        f"for path in ('/usr/evil', '/etc/evil', '/evil'):\n"
        f"    try:\n"
        f"        open(path, 'w').write('x'); print(path, 'written')\n"
        f"    except OSError as exc:\n"
        f"        print(path, 'refused', type(exc).__name__)\n"
    )
    run = run_python(sandbox, code)
    assert run.ok, run
    assert "s3cret" not in run.output
    assert "written" not in run.output
    assert run.output.count("refused") >= 6
    assert not Path("/usr/evil").exists()


def test_the_sandbox_cannot_regain_privileges(sandbox: Sandbox) -> None:
    code = (
        "import os\n"
        "try:\n"
        "    os.setuid(0); print('root')\n"
        "except OSError:\n"
        "    print('setuid refused')\n"
        "try:\n"
        "    os.unshare(os.CLONE_NEWUSER); print('userns')\n"
        "except OSError:\n"
        "    print('userns refused')\n"
    )
    run = run_python(sandbox, code)
    assert run.ok, run
    assert "setuid refused" in run.output
    assert "userns refused" in run.output


def test_paths_the_sandbox_uid_cannot_reach_are_mirrored(sandbox: Sandbox, work: Path) -> None:
    hidden = work / "private"
    (hidden / "tool").mkdir(parents=True)
    (hidden / "tool" / "data.txt").write_text("hello", encoding="utf-8")
    (hidden / "tool" / "data.txt").chmod(0o644)
    hidden.chmod(0o700)
    mirror = sandbox.expose(hidden / "tool")
    if os.geteuid() == 0:  # a worker running as root hands the sandbox another uid
        assert not sandbox.reachable(hidden / "tool")
        assert mirror != hidden / "tool"
    else:  # otherwise the sandbox runs as the worker's own uid: nothing to mirror
        assert mirror == hidden / "tool"
    assert sandbox.reachable(mirror)
    run = run_python(
        sandbox, "print(open('/t/data.txt').read())", mounts=[Mount(hidden / "tool", "/t")]
    )
    assert run.output.strip() == "hello"
