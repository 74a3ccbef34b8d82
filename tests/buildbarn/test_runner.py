#!/usr/bin/env python3
"""Plays Buildbarn's bb_worker against boxd-bb-runner.

The suite starts a private boxd and several boxd-bb-runner instances on
sockets of their own, lays out a build directory the way the worker does
(<build>/<id>/{root,tmp,server_logs}), fills each input root, and calls
the runner over its UNIX socket with a gRPC client built only from the
runner protocol's .proto files (stubs generated with protoc at start).

Needs root (boxd is a root daemon). Checks that need something the host
lacks (cgroups for memory figures and limits, a static busybox for the
chroot mode) are skipped with the reason printed.

Environment: BOXD_BIN, BB_RUNNER_BIN, BB_PROTO_DIR, PROTOC (set by meson).
"""
import concurrent.futures
import ctypes
import errno
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

SKIP = 77

# Generous bounds for things that must happen: a test fails when one is
# reached, it never passes because of one.
WAIT_S = 60
RPC_TIMEOUT_S = 120

BUSYBOX = "/bin/busybox"

grpc = None
runner_pb2 = resourceusage_pb2 = boxd_usage_pb2 = empty_pb2 = None
env = {}


def log(msg):
    print(msg, flush=True)


def die_with_parent():
    """preexec_fn: the child gets SIGTERM when this test process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def wait_for(predicate, what, bound=WAIT_S):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("gave up after %d s waiting for %s" % (bound, what))


def is_static_elf(path):
    """True for an ELF file without PT_INTERP (a static executable)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
                return False
            phoff = int.from_bytes(head[32:40], "little")
            phentsize = int.from_bytes(head[54:56], "little")
            phnum = int.from_bytes(head[56:58], "little")
            f.seek(phoff)
            for _ in range(phnum):
                ph = f.read(phentsize)
                if int.from_bytes(ph[0:4], "little") == 3:  # PT_INTERP
                    return False
            return True
    except OSError:
        return False


def process_cmdlines():
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                out[int(pid)] = f.read()
        except OSError:
            pass
    return out


def snapshot(top):
    """Every entry below top: type, size, mode, target of symlinks."""
    result = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            link = os.readlink(p) if stat.S_ISLNK(st.st_mode) else None
            result[os.path.relpath(p, top)] = (
                stat.S_IFMT(st.st_mode), st.st_size, st.st_mode, link)
    return result


class Daemons:
    """The private boxd and the runners, and the build directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="boxd-test-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.build = os.path.join(self.dir, "build")
        os.mkdir(self.build)
        self.procs = []
        self.runners = {}
        self.cgroup_mode, self.cgroup_root = self.pick_cgroups()
        self.next_id = 0

    def pick_cgroups(self):
        try:
            with open("/sys/fs/cgroup/cgroup.controllers") as f:
                v2 = "memory" in f.read()
        except OSError:
            v2 = False
        if v2:
            root = "/sys/fs/cgroup/boxd-test-%d" % os.getpid()
            try:
                with open("/sys/fs/cgroup/cgroup.subtree_control", "w") as f:
                    f.write("+cpu +memory +pids")
            except OSError:
                pass
            os.makedirs(root, exist_ok=True)
            return "v2", root
        if os.path.exists("/sys/fs/cgroup/memory/tasks"):
            return "v1", "boxd-test-%d" % os.getpid()
        return "none", None

    def spawn(self, name, argv, log_name, extra_env=None):
        logf = open(os.path.join(self.dir, log_name), "ab")
        child_env = dict(os.environ)
        child_env.pop("NOTIFY_SOCKET", None)
        child_env.update(extra_env or {})
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=logf, preexec_fn=die_with_parent,
                             umask=0o022, env=child_env)
        logf.close()
        self.procs.append((name, p))
        return p

    def wait_socket(self, path, proc, what):
        def ready():
            if proc.poll() is not None:
                raise AssertionError("%s exited at startup (status %s)"
                                     % (what, proc.returncode))
            return os.path.exists(path)
        wait_for(ready, "%s to listen on %s" % (what, path))

    def start_boxd(self):
        self.boxd_sock = os.path.join(self.dir, "boxd.sock")
        argv = [env["BOXD_BIN"], "--socket", self.boxd_sock,
                "--state-dir", os.path.join(self.dir, "state"),
                "--config", "/dev/null", "--verbose"]
        if self.cgroup_mode == "none":
            argv.append("--no-cgroups")
        else:
            argv += ["--cgroup-mode", self.cgroup_mode,
                     "--cgroup-root", self.cgroup_root]
        p = self.spawn("boxd", argv, "boxd.log")
        self.wait_socket(self.boxd_sock, p, "boxd")

    def start_runner(self, name, *extra, boxd_sock=None, notify=None):
        sock = os.path.join(self.dir, name + ".sock")
        extra_env = {"NOTIFY_SOCKET": notify} if notify else None
        # --kill-wait far beyond any bound here: a cancelled action must
        # die because the runner killed it, not because the runner gave
        # up on boxd and dropped the connection.
        argv = [env["BB_RUNNER_BIN"], "--listen", sock,
                "--build-directory", self.build,
                "--boxd-socket", boxd_sock or self.boxd_sock,
                "--kill-wait", "1h", "--verbose"] + list(extra)
        p = self.spawn(name, argv, name + ".log", extra_env)
        self.wait_socket(sock, p, "boxd-bb-runner " + name)
        channel = grpc.insecure_channel("unix:" + sock)
        self.runners[name] = channel
        return channel

    def stop_processes(self):
        """Stop everything; returns the names of the processes that did
        not exit cleanly (status 0) on SIGTERM."""
        bad = []
        for channel in self.runners.values():
            channel.close()
        # Runners first: their calls end, then boxd.
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                log("%s did not stop on SIGTERM" % name)
            if p.returncode != 0 and name not in bad:
                bad.append(name)
        self.procs = []
        return bad

    def cleanup(self):
        if self.cgroup_mode == "v1":
            for ctl in os.listdir("/sys/fs/cgroup"):
                self.rmdir_tree(os.path.join("/sys/fs/cgroup", ctl,
                                             self.cgroup_root))
        elif self.cgroup_mode == "v2":
            self.rmdir_tree(self.cgroup_root)
        if os.environ.get("BOXD_TEST_KEEP"):
            log("kept %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def rmdir_tree(top):
        if not os.path.isdir(top):
            return
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass

    def show_logs(self):
        for name in ["boxd.log"] + [n + ".log" for n in self.runners]:
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            log("---- %s (last 40 lines)" % name)
            log("".join(text.splitlines(True)[-40:]))

    def action_dir(self):
        """A fresh <build>/<id>/{root,tmp,server_logs}: returns the id."""
        self.next_id += 1
        aid = "action-%d" % self.next_id
        for sub in ("root", "tmp", "server_logs"):
            os.makedirs(os.path.join(self.build, aid, sub))
        return aid


D = None
NOTIFY = None


def setUpModule():
    global D, NOTIFY
    D = Daemons()
    D.start_boxd()
    # The workspace runner reports readiness as a Type=notify service.
    NOTIFY = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    NOTIFY.bind(os.path.join(D.dir, "notify.sock"))
    D.start_runner("workspace", notify=os.path.join(D.dir, "notify.sock"))
    D.start_runner("chroot", "--mode", "chroot")
    D.start_runner("unreachable",
                   boxd_sock=os.path.join(D.dir, "no-boxd.sock"))


def stub(channel, method, request_type, response_type):
    return channel.unary_unary(
        "/buildbarn.runner.Runner/" + method,
        request_serializer=request_type.SerializeToString
        if request_type else None,
        response_deserializer=response_type.FromString)


def request(aid, arguments, environment=None, working_directory="",
            **overrides):
    fields = dict(
        arguments=arguments,
        environment_variables=environment or {},
        working_directory=working_directory,
        stdout_path=aid + "/stdout",
        stderr_path=aid + "/stderr",
        input_root_directory=aid + "/root",
        temporary_directory=aid + "/tmp",
        server_logs_directory=aid + "/server_logs",
    )
    fields.update(overrides)
    return runner_pb2.RunRequest(**fields)


def run(req, runner="workspace", timeout=RPC_TIMEOUT_S):
    call = stub(D.runners[runner], "Run", runner_pb2.RunRequest,
                runner_pb2.RunResponse)
    return call(req, timeout=timeout)


def run_future(req, runner="workspace", timeout=RPC_TIMEOUT_S):
    call = stub(D.runners[runner], "Run", runner_pb2.RunRequest,
                runner_pb2.RunResponse)
    return call.future(req, timeout=timeout)


def readiness(path, runner="workspace"):
    call = stub(D.runners[runner], "CheckReadiness",
                runner_pb2.CheckReadinessRequest, empty_pb2.Empty)
    return call(runner_pb2.CheckReadinessRequest(path=path),
                timeout=RPC_TIMEOUT_S)


def read(aid, name):
    with open(os.path.join(D.build, aid, name), "rb") as f:
        return f.read().decode()


def usages(resp):
    """The two resource-usage messages, checked by their type URLs."""
    urls = [a.type_url for a in resp.resource_usage]
    assert urls == [
        "type.googleapis.com/buildbarn.resourceusage.POSIXResourceUsage",
        "type.googleapis.com/boxd.buildbarn.v1.BoxdResourceUsage",
    ], urls
    posix = resourceusage_pb2.POSIXResourceUsage()
    assert resp.resource_usage[0].Unpack(posix)
    box = boxd_usage_pb2.BoxdResourceUsage()
    assert resp.resource_usage[1].Unpack(box)
    return posix, box


def write_file(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


class Workspace(unittest.TestCase):
    """The default mode: host system read-only, input root read-write."""

    def test_stdout_and_stderr_content(self):
        aid = D.action_dir()
        resp = run(request(aid, ["sh", "-c", "echo hello; echo oops >&2"],
                           {"PATH": SYSTEM_PATH}))
        self.assertEqual(resp.exit_code, 0)
        self.assertEqual(read(aid, "stdout"), "hello\n")
        self.assertEqual(read(aid, "stderr"), "oops\n")
        # Created by the runner as the stock runner does: 0666 less the
        # runner's umask (022 here).
        for name in ("stdout", "stderr"):
            st = os.stat(os.path.join(D.build, aid, name))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o644, name)

    def test_exact_environment(self):
        aid = D.action_dir()
        environment = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8",
                       "SPACED": "a b  c", "EMPTY": ""}
        resp = run(request(aid, ["env"], environment))
        self.assertEqual(resp.exit_code, 0)
        got = sorted(read(aid, "stdout").splitlines())
        want = sorted(["%s=%s" % kv for kv in environment.items()] +
                      ["TMPDIR=/tmp"])
        self.assertEqual(got, want)

    def test_environment_keeps_request_tmpdir_and_lacks_path(self):
        aid = D.action_dir()
        resp = run(request(aid, ["/usr/bin/env"],
                           {"TMPDIR": "/tmp/mine", "X": "1"}))
        self.assertEqual(resp.exit_code, 0)
        # No PATH added, TMPDIR the request's, nothing else.
        self.assertEqual(sorted(read(aid, "stdout").splitlines()),
                         ["TMPDIR=/tmp/mine", "X=1"])

    def test_working_directory(self):
        aid = D.action_dir()
        write_file(os.path.join(D.build, aid, "root/sub/dir/input.txt"),
                   "from the worker\n")
        resp = run(request(aid, ["sh", "-c",
                                 "pwd; cat input.txt; cat ../../top.txt"],
                           {"PATH": SYSTEM_PATH}, "sub/dir"))
        self.assertEqual(resp.exit_code, 1)  # top.txt does not exist
        lines = read(aid, "stdout").splitlines()
        self.assertEqual(lines[0], "/build/sub/dir")
        self.assertEqual(lines[1], "from the worker")

    def test_path_lookup_relative_to_working_directory(self):
        aid = D.action_dir()
        root = os.path.join(D.build, aid, "root")
        write_file(os.path.join(root, "pkg/tools/greet"),
                   "#!/bin/sh\necho \"greet from $PWD: $*\"\n", 0o755)
        os.makedirs(os.path.join(root, "pkg/work"))
        # "../tools" is relative: looked up from the working directory.
        resp = run(request(aid, ["greet", "x"],
                           {"PATH": "../tools:" + SYSTEM_PATH}, "pkg/work"))
        self.assertEqual(resp.exit_code, 0, read(aid, "stderr"))
        self.assertEqual(read(aid, "stdout"),
                         "greet from /build/pkg/work: x\n")

    def test_path_lookup_finds_system_program_in_request_path(self):
        aid = D.action_dir()
        resp = run(request(aid, ["true"], {"PATH": "/nonexistent:/usr/bin"}))
        self.assertEqual(resp.exit_code, 0)

    def test_outputs_visible_on_host(self):
        aid = D.action_dir()
        resp = run(request(aid, ["sh", "-c",
                                 "mkdir -p out && echo built > out/a.o && "
                                 "echo scratch > \"$TMPDIR/t\""],
                           {"PATH": SYSTEM_PATH}))
        self.assertEqual(resp.exit_code, 0, read(aid, "stderr"))
        self.assertEqual(read(aid, "root/out/a.o"), "built\n")
        # The worker's temporary directory is the action's /tmp.
        self.assertEqual(read(aid, "tmp/t"), "scratch\n")

    def test_host_system_is_read_only(self):
        aid = D.action_dir()
        resp = run(request(aid, ["sh", "-c", "echo x > /usr/boxd-test"],
                           {"PATH": SYSTEM_PATH}))
        self.assertNotEqual(resp.exit_code, 0)
        self.assertFalse(os.path.exists("/usr/boxd-test"))

    def test_exit_codes(self):
        for code in (0, 3, 255):
            aid = D.action_dir()
            resp = run(request(aid, ["sh", "-c", "exit %d" % code],
                               {"PATH": SYSTEM_PATH}))
            self.assertEqual(resp.exit_code, code)
            posix, box = usages(resp)
            self.assertEqual(posix.termination_signal, "")
            self.assertEqual(box.termination, box.EXITED)

    def test_signal_is_minus_one_with_name(self):
        aid = D.action_dir()
        resp = run(request(aid, ["sh", "-c", "kill -SEGV $$"],
                           {"PATH": SYSTEM_PATH}))
        self.assertEqual(resp.exit_code, -1)
        posix, box = usages(resp)
        self.assertEqual(posix.termination_signal, "SEGV")
        self.assertEqual(box.termination, box.SIGNALED)
        self.assertEqual(box.signal, signal.SIGSEGV)

    def test_cpu_time_and_peak_memory(self):
        aid = D.action_dir()
        # dd holds one 64 MiB block in memory; the loop burns user time.
        script = ("dd if=/dev/zero of=/dev/null bs=64M count=4 2>/dev/null;"
                  " i=0; while [ $i -lt 500000 ]; do i=$((i+1)); done")
        resp = run(request(aid, ["sh", "-c", script], {"PATH": SYSTEM_PATH}))
        self.assertEqual(resp.exit_code, 0, read(aid, "stderr"))
        posix, box = usages(resp)
        cpu = (posix.user_time.ToNanoseconds() +
               posix.system_time.ToNanoseconds())
        self.assertGreater(posix.user_time.ToNanoseconds(), 0)
        self.assertGreater(cpu, 0)
        self.assertGreaterEqual(posix.maximum_resident_set_size, 64 << 20)
        self.assertGreater(box.wall_time.ToNanoseconds(), 0)
        self.assertGreater(box.run_id, 0)
        if D.cgroup_mode == "none":
            self.skipTest("no cgroups on this host: peak memory of the "
                          "whole run, OOM kills and peak pids are unknown")
        self.assertEqual(box.peak_memory_source, box.CGROUP)
        self.assertGreaterEqual(box.peak_memory_bytes, 64 << 20)
        self.assertEqual(box.oom_kills, 0)
        if box.peak_pids != -1:
            self.assertGreaterEqual(box.peak_pids, 2)

    def test_network_is_off(self):
        aid = D.action_dir()
        resp = run(request(aid, ["cat", "/proc/net/dev"],
                           {"PATH": SYSTEM_PATH}))
        self.assertEqual(resp.exit_code, 0)
        ifaces = [line.split(":")[0].strip()
                  for line in read(aid, "stdout").splitlines()[2:]]
        self.assertEqual(ifaces, ["lo"])


class Cancellation(unittest.TestCase):
    """A deadline or a cancelled call kills everything the action started."""

    def start_daemonising_action(self, timeout):
        aid = D.action_dir()
        token = "bbmark%d%d" % (os.getpid(), D.next_id)
        # The child escapes into its own session and would outlive its
        # parent under a plain fork/exec runner.
        script = ("setsid sh -c 'sleep 100000' %s-daemon & "
                  "echo started > started; sleep 100000" % token)
        fut = run_future(request(aid, ["sh", "-c", script, token + "-main"],
                                 {"PATH": SYSTEM_PATH}), timeout=timeout)
        return aid, token.encode(), fut

    def procs_with(self, token):
        return [pid for pid, cmd in process_cmdlines().items()
                if token in cmd and pid != os.getpid()]

    def wait_running(self, aid, token, fut):
        def both_running():
            if fut.done():
                raise AssertionError(
                    "the call ended before the action was running: %r"
                    % (fut.exception(),))
            cmds = [process_cmdlines().get(p, b"")
                    for p in self.procs_with(token)]
            return (any(b"-daemon" in c for c in cmds) and
                    any(b"-main" in c for c in cmds) and
                    os.path.exists(started))
        started = os.path.join(D.build, aid, "root", "started")
        wait_for(both_running, "the action and its daemon to run")

    def test_deadline_kills_action_and_daemonised_child(self):
        # The deadline must leave the action time to get going; a host
        # too slow for the first gets a longer one, rather than a check
        # that proves nothing.
        for deadline in (8, 30, 120):
            aid, token, fut = self.start_daemonising_action(deadline)
            try:
                self.wait_running(aid, token, fut)
            except AssertionError:
                with self.assertRaises(grpc.RpcError):
                    fut.result()
                wait_for(lambda: not self.procs_with(token),
                         "every process of the action to be gone")
                log("the action was not running before its %d s "
                    "deadline: again with a longer one" % deadline)
                continue
            with self.assertRaises(grpc.RpcError) as cm:
                fut.result()
            self.assertEqual(cm.exception.code(),
                             grpc.StatusCode.DEADLINE_EXCEEDED)
            wait_for(lambda: not self.procs_with(token),
                     "every process of the action to be gone")
            return
        self.fail("the action never ran before its deadline")

    def test_cancel_kills_action_and_daemonised_child(self):
        aid, token, fut = self.start_daemonising_action(timeout=RPC_TIMEOUT_S)
        self.wait_running(aid, token, fut)
        self.assertTrue(fut.cancel())
        wait_for(lambda: not self.procs_with(token),
                 "every process of the action to be gone")
        # The runner is free again and still serves.
        aid2 = D.action_dir()
        self.assertEqual(run(request(aid2, ["true"],
                                     {"PATH": SYSTEM_PATH})).exit_code, 0)


class Concurrency(unittest.TestCase):

    def test_eight_concurrent_runs(self):
        """Eight calls at once run eight sandboxes at once.

        Each action blocks reading a FIFO in its input root. The test
        holds the write ends and only lets go once all eight readers are
        there at the same time: runs served one after another would never
        get there."""
        n = 8
        aids = [D.action_dir() for _ in range(n)]
        fifos = [os.path.join(D.build, a, "root", "go") for a in aids]
        for f in fifos:
            os.mkfifo(f)
        futs = [run_future(request(a, ["sh", "-c", "cat go; echo done %s" % a],
                                   {"PATH": SYSTEM_PATH}))
                for a in aids]
        writers = {}
        try:
            def all_reading():
                for i, f in enumerate(fifos):
                    if i in writers:
                        continue
                    if futs[i].done():
                        raise AssertionError("run %d ended early: %r"
                                             % (i, futs[i].exception()))
                    try:
                        writers[i] = os.open(f, os.O_WRONLY | os.O_NONBLOCK)
                    except OSError as e:
                        if e.errno != errno.ENXIO:  # no reader yet
                            raise
                return len(writers) == n
            wait_for(all_reading, "%d actions running at once" % n)
        finally:
            for fd in writers.values():
                os.close(fd)
        for a, fut in zip(aids, futs):
            resp = fut.result()
            self.assertEqual(resp.exit_code, 0)
            self.assertEqual(read(a, "stdout"), "done %s\n" % a)


    def test_calls_beyond_max_calls(self):
        """With --max-calls 1, a second call while one runs is refused."""
        if "single" not in D.runners:
            D.start_runner("single", "--max-calls", "1")
        aid = D.action_dir()
        fifo = os.path.join(D.build, aid, "root", "go")
        os.mkfifo(fifo)
        fut = run_future(request(aid, ["cat", "go"], {"PATH": SYSTEM_PATH}),
                         runner="single")
        writer = []

        def reading():
            if fut.done():
                raise AssertionError("ended early: %r" % (fut.exception(),))
            try:
                writer.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
            return bool(writer)
        try:
            wait_for(reading, "the first action to run")
            aid2 = D.action_dir()
            before = snapshot(D.build)
            with self.assertRaises(grpc.RpcError) as cm:
                run(request(aid2, ["true"], {"PATH": SYSTEM_PATH}),
                    runner="single")
            self.assertEqual(cm.exception.code(),
                             grpc.StatusCode.RESOURCE_EXHAUSTED)
            self.assertEqual(snapshot(D.build), before)
        finally:
            for fd in writer:
                os.close(fd)
        self.assertEqual(fut.result().exit_code, 0)


class Readiness(unittest.TestCase):

    def test_ready(self):
        aid = D.action_dir()
        readiness(aid)
        readiness(aid + "/root")

    def test_missing_path_is_not_ready(self):
        with self.assertRaises(grpc.RpcError) as cm:
            readiness("no-such-directory")
        self.assertEqual(cm.exception.code(),
                         grpc.StatusCode.FAILED_PRECONDITION)

    def test_path_out_of_build_directory(self):
        for path in ("../" + os.path.basename(D.dir), "/etc"):
            with self.assertRaises(grpc.RpcError) as cm:
                readiness(path)
            self.assertEqual(cm.exception.code(),
                             grpc.StatusCode.INVALID_ARGUMENT, path)

    def test_sd_notify_ready(self):
        """READY=1 on $NOTIFY_SOCKET once it serves (systemd Type=notify)."""
        got = b""
        NOTIFY.settimeout(WAIT_S)
        while b"READY=1" not in got.split(b"\n"):
            got += NOTIFY.recv(4096) + b"\n"

    def test_unknown_method(self):
        call = D.runners["workspace"].unary_unary(
            "/buildbarn.runner.Runner/NoSuchMethod")
        with self.assertRaises(grpc.RpcError) as cm:
            call(b"", timeout=RPC_TIMEOUT_S)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)


class BoxdUnreachable(unittest.TestCase):
    """A runner whose boxd does not answer."""

    def test_run_is_unavailable_and_touches_nothing(self):
        aid = D.action_dir()
        before = snapshot(D.build)
        with self.assertRaises(grpc.RpcError) as cm:
            run(request(aid, ["true"], {"PATH": SYSTEM_PATH}),
                runner="unreachable")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertIn("boxd", cm.exception.details())
        self.assertEqual(snapshot(D.build), before)

    def test_not_ready(self):
        aid = D.action_dir()
        with self.assertRaises(grpc.RpcError) as cm:
            readiness(aid, runner="unreachable")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)


class BadRequests(unittest.TestCase):
    """INVALID_ARGUMENT with a message, and nothing changed on disk."""

    def setUp(self):
        self.aid = D.action_dir()
        self.outside = os.path.join(D.dir, "outside")
        os.makedirs(self.outside, exist_ok=True)

    def refused(self, req, runner="workspace", raw=None):
        before = (snapshot(D.build), snapshot(self.outside))
        call = stub(D.runners[runner], "Run",
                    None if raw is not None else runner_pb2.RunRequest,
                    runner_pb2.RunResponse)
        with self.assertRaises(grpc.RpcError) as cm:
            call(raw if raw is not None else req, timeout=RPC_TIMEOUT_S)
        self.assertEqual(cm.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT,
                         cm.exception.details())
        self.assertTrue(cm.exception.details())
        self.assertEqual((snapshot(D.build), snapshot(self.outside)), before)
        return cm.exception.details()

    def test_empty_arguments(self):
        self.refused(request(self.aid, []))
        self.refused(request(self.aid, [""]))

    def test_not_a_run_request(self):
        self.refused(None, raw=b"\xff\xff\xff\xff")

    def test_input_root_out_of_build_directory(self):
        for path in ("../outside", "/tmp", "", ".", self.aid + "/../.."):
            msg = self.refused(request(self.aid, ["true"],
                                       input_root_directory=path))
            self.assertIn("input_root_directory", msg)

    def test_input_root_symlink_out(self):
        os.symlink(self.outside, os.path.join(D.build, self.aid, "escape"))
        self.refused(request(self.aid, ["true"],
                             input_root_directory=self.aid + "/escape"))

    def test_working_directory_out_of_input_root(self):
        os.makedirs(os.path.join(D.build, self.aid, "root", "a"))
        for wd in ("..", "../..", "a/../../..", "a/../a", "/etc"):
            msg = self.refused(request(self.aid, ["true"],
                                       working_directory=wd))
            self.assertIn("working_directory", msg)

    def test_missing_working_directory(self):
        self.refused(request(self.aid, ["true"], {"PATH": SYSTEM_PATH},
                             working_directory="does/not/exist"))

    def test_stdout_out_of_build_directory(self):
        for path in ("../outside/stdout", "/tmp/stdout", ""):
            self.refused(request(self.aid, ["true"], stdout_path=path))
        self.refused(request(self.aid, ["true"],
                             stderr_path="../outside/stderr"))

    def test_stdout_through_symlink(self):
        os.symlink(self.outside, os.path.join(D.build, self.aid, "logs"))
        self.refused(request(self.aid, ["true"],
                             stdout_path=self.aid + "/logs/stdout"))

    def test_existing_stdout_file(self):
        path = os.path.join(D.build, self.aid, "stdout")
        write_file(path, "earlier\n")
        self.refused(request(self.aid, ["true"]))
        self.assertEqual(read(self.aid, "stdout"), "earlier\n")
        os.unlink(path)
        os.symlink(os.path.join(self.outside, "x"),
                   os.path.join(D.build, self.aid, "stderr"))
        self.refused(request(self.aid, ["true"]))

    def test_stdout_same_as_stderr(self):
        self.refused(request(self.aid, ["true"],
                             stderr_path=self.aid + "/stdout"))

    def test_missing_stdout_directory(self):
        self.refused(request(self.aid, ["true"],
                             stdout_path=self.aid + "/nope/stdout"))

    def test_temporary_directory_out_of_build_directory(self):
        for path in ("../outside", "/tmp", "."):
            self.refused(request(self.aid, ["true"],
                                 temporary_directory=path))

    def test_bad_environment_names(self):
        self.refused(request(self.aid, ["true"], {"A=B": "c"}))
        self.refused(request(self.aid, ["true"], {"": "c"}))

    def test_command_not_found(self):
        msg = self.refused(request(self.aid, ["no-such-command-here"],
                                   {"PATH": SYSTEM_PATH}))
        self.assertIn("no-such-command-here", msg)
        # Not found when the request has no PATH to look it up in.
        self.refused(request(self.aid, ["sh"], {}))


class Limits(unittest.TestCase):
    """A runner started with --memory and --pids."""

    @classmethod
    def setUpClass(cls):
        if D.cgroup_mode == "none":
            raise unittest.SkipTest("no cgroups on this host: boxd cannot "
                                    "enforce memory or pids limits")
        if "limited" not in D.runners:
            D.start_runner("limited", "--memory", "48M", "--pids", "32")

    def test_ready(self):
        readiness(D.action_dir(), runner="limited")

    def test_memory_limit_kills(self):
        aid = D.action_dir()
        resp = run(request(aid, ["dd", "if=/dev/zero", "of=/dev/null",
                                 "bs=256M", "count=1"],
                           {"PATH": SYSTEM_PATH}), runner="limited")
        self.assertEqual(resp.exit_code, -1)
        posix, box = usages(resp)
        self.assertEqual(posix.termination_signal, "KILL")
        self.assertGreaterEqual(box.oom_kills, 1)
        self.assertIn(box.termination, (box.OUT_OF_MEMORY, box.SIGNALED))


class Chroot(unittest.TestCase):
    """--mode chroot: the input root is the sandbox's /."""

    def setUp(self):
        if not is_static_elf(BUSYBOX):
            self.skipTest("%s is not a static executable (Debian: "
                          "busybox-static): no root filesystem to chroot "
                          "into" % BUSYBOX)
        self.aid = D.action_dir()
        self.root = os.path.join(D.build, self.aid, "root")
        os.makedirs(os.path.join(self.root, "bin"))
        shutil.copy(BUSYBOX, os.path.join(self.root, "bin/busybox"))
        for tool in ("sh", "env", "cat", "ls", "pwd", "mkdir", "echo",
                     "kill", "true"):
            os.symlink("busybox", os.path.join(self.root, "bin", tool))

    def test_input_root_is_root(self):
        os.makedirs(os.path.join(self.root, "src"))
        script = ("ls /; pwd; echo built > out.txt; "
                  "echo t > /tmp/t && cat /tmp/t; "
                  "echo n > /dev/null && echo devnull; "
                  "cat /proc/self/stat > /dev/null && echo proc; "
                  "ls /usr 2>&1 || echo no-usr")
        resp = run(request(self.aid, ["sh", "-c", script], {"PATH": "/bin"},
                           "src"), runner="chroot")
        self.assertEqual(resp.exit_code, 0, read(self.aid, "stderr"))
        out = read(self.aid, "stdout").split()
        for want in ("bin", "src", "/src", "t", "devnull", "proc",
                     "no-usr"):
            self.assertIn(want, out)
        self.assertEqual(read(self.aid, "root/src/out.txt"), "built\n")

    def test_exact_environment(self):
        resp = run(request(self.aid, ["env"], {"PATH": "/bin", "A": "b"}),
                   runner="chroot")
        self.assertEqual(resp.exit_code, 0, read(self.aid, "stderr"))
        self.assertEqual(sorted(read(self.aid, "stdout").splitlines()),
                         ["A=b", "PATH=/bin"])

    def test_path_lookup_and_signal(self):
        resp = run(request(self.aid, ["sh", "-c", "kill -TERM $$"],
                           {"PATH": "/nonexistent:bin"}), runner="chroot")
        self.assertEqual(resp.exit_code, -1)
        posix, _ = usages(resp)
        self.assertEqual(posix.termination_signal, "TERM")

    def test_bad_requests_touch_nothing(self):
        call = stub(D.runners["chroot"], "Run", runner_pb2.RunRequest,
                    runner_pb2.RunResponse)
        # Refused before boxd is asked; then refused by the sandbox (no
        # such command, no such working directory), after it had made
        # its mount points in the input root: removed again.
        for args, wd in ((["sh"], "../.."), (["no-such-tool"], ""),
                         (["sh"], "missing")):
            before = snapshot(D.build)
            with self.assertRaises(grpc.RpcError) as cm:
                call(request(self.aid, args, {"PATH": "/bin"},
                             working_directory=wd), timeout=RPC_TIMEOUT_S)
            self.assertEqual(cm.exception.code(),
                             grpc.StatusCode.INVALID_ARGUMENT, args)
            self.assertEqual(snapshot(D.build), before, args)


class RecordingResult(unittest.TextTestResult):
    """Keeps every outcome, for a report in criterion's JSON format."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []

    def record(self, test, status, message=None):
        ident = test.id().split(".")
        suite = ident[-2] if len(ident) > 1 else "buildbarn"
        self.records.append((suite, ident[-1], status, message))

    def addSuccess(self, test):
        super().addSuccess(test)
        self.record(test, "PASSED")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.record(test, "FAILED", str(err[1]))

    def addError(self, test, err):
        super().addError(test, err)
        self.record(test, "FAILED", str(err[1]))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.record(test, "SKIPPED", reason)


def write_report(path, records):
    """The outcome of every check, in the shape of criterion's --json
    report, so tests/summary.py counts them one by one (and groups the
    reasons of skips) like the criterion suites'."""
    suites = {}
    for suite, name, status, message in records:
        test = {"name": name, "status": status}
        if message:
            test["messages"] = [message]
        suites.setdefault(suite, []).append(test)
    report = {"test_suites": [{"name": n, "tests": t}
                              for n, t in sorted(suites.items())]}
    with open(path, "w") as f:
        json.dump(report, f, indent=1)


def generate_stubs(outdir):
    protoc = env["PROTOC"]
    subprocess.run([protoc, "-I", env["BB_PROTO_DIR"], "--python_out",
                    outdir, "runner.proto", "resourceusage.proto",
                    "boxd_resource_usage.proto"], check=True)
    sys.path.insert(0, outdir)


def main():
    global grpc, runner_pb2, resourceusage_pb2, boxd_usage_pb2, empty_pb2
    if os.geteuid() != 0:
        print("SKIP: needs root: boxd is a root daemon")
        return SKIP
    for name in ("BOXD_BIN", "BB_RUNNER_BIN", "BB_PROTO_DIR", "PROTOC"):
        env[name] = os.environ.get(name, "")
        if not env[name]:
            print("SKIP: %s is not set (run through meson test)" % name)
            return SKIP
    try:
        import grpc as grpc_module
        from google.protobuf import empty_pb2 as empty_module
    except ImportError as e:
        print("SKIP: Python gRPC or protobuf missing (Debian: "
              "python3-grpcio, python3-protobuf): %s" % e)
        return SKIP
    grpc = grpc_module
    empty_pb2 = empty_module
    stubs = tempfile.mkdtemp(prefix="boxd-test-stubs-", dir="/tmp")
    try:
        generate_stubs(stubs)
        import runner_pb2 as r
        import resourceusage_pb2 as u
        import boxd_resource_usage_pb2 as b
        runner_pb2, resourceusage_pb2, boxd_usage_pb2 = r, u, b
        module = sys.modules[__name__]
        loader = unittest.defaultTestLoader
        # Names on the command line ("Workspace.test_exit_codes") run
        # only those tests; --json=PATH writes a report there.
        args = [a for a in sys.argv[1:] if not a.startswith("--json=")]
        reports = [a[7:] for a in sys.argv[1:] if a.startswith("--json=")]
        suite = (loader.loadTestsFromNames(args, module)
                 if args else loader.loadTestsFromModule(module))
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout,
                                         resultclass=RecordingResult)\
            .run(suite)
        for path in reports:
            write_report(path, result.records)
        ok = result.wasSuccessful()
        if D:
            # A runner or boxd that fails at exit (a crash while
            # stopping, a sanitizer's report) fails the suite too.
            bad = D.stop_processes()
            if bad:
                log("did not exit cleanly on SIGTERM: %s" % ", ".join(bad))
                ok = False
            if not ok:
                D.show_logs()
        return 0 if ok else 1
    finally:
        if D:
            D.stop_processes()
            D.cleanup()
        shutil.rmtree(stubs, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
