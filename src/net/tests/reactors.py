"""reactors.py: the reactors the black-box tests run on: epoll and ppoll, or io_uring in test.py's io_uring pass."""
import ctypes
import errno
import os

_NR_IO_URING_SETUP = 425  # x86-64
_refusal = []


def uring_refusal():
    """None if this kernel lets us set up an io_uring, else why not (one line).

    The server checks more at start-up (features, opcodes, buffer rings) and
    says so itself; this catches what refuses a ring outright: ENOSYS, EPERM,
    /proc/sys/kernel/io_uring_disabled."""
    if not _refusal:
        libc = ctypes.CDLL(None, use_errno=True)
        params = ctypes.create_string_buffer(120)
        fd = libc.syscall(_NR_IO_URING_SETUP, 1, params)
        if fd >= 0:
            os.close(fd)
            _refusal.append(None)
        else:
            err = ctypes.get_errno()
            why = f"io_uring_setup: {errno.errorcode.get(err, err)}"
            try:
                with open("/proc/sys/kernel/io_uring_disabled") as f:
                    why += f", io_uring_disabled={f.read().strip()}"
            except OSError:
                pass
            _refusal.append(why)
    return _refusal[0]


def reactors():
    """The reactors a test that loops over them runs on: epoll and ppoll, or
    only the one test.py's second pass asks for (ASYNC_NOSTD_REACTOR=io_uring),
    in which every black-box test runs once more on io_uring."""
    forced = os.environ.get("ASYNC_NOSTD_REACTOR")
    return (forced,) if forced else ("epoll", "ppoll")


def default_reactor():
    """The reactor of a test that does not loop over them."""
    return os.environ.get("ASYNC_NOSTD_REACTOR", "epoll")


def executor_args():
    """The server's --executor, when test.py's per-core pass asks for one
    (ASYNC_NOSTD_EXECUTOR=per-core); none otherwise (the server's default)."""
    kind = os.environ.get("ASYNC_NOSTD_EXECUTOR")
    return (f"--executor={kind}",) if kind else ()


def reactors_note():
    """For a test's summary line: which reactors it ran on."""
    return " and ".join(reactors())
