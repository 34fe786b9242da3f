"""reactors.py: the reactors the black-box tests run on: epoll, ppoll, and io_uring where the kernel allows it."""
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
    """The reactors to run a black-box test on, io_uring only where it works."""
    return ("epoll", "ppoll") + (() if uring_refusal() else ("io_uring",))


def reactors_note():
    """For a test's summary line: which reactors ran, and why io_uring did not."""
    why = uring_refusal()
    return "epoll, ppoll and io_uring" if not why else f"epoll and ppoll (io_uring skipped: {why})"
