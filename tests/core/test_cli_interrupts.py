"""Ctrl-C in polling commands is never lost, even when it lands in a finalizer."""

from __future__ import annotations

import gc
import os
import signal
import sys
import time

import pytest

from kitaru.cli.interrupts import deferred_interrupt


class InterruptedWhileCollected:
    """An object whose finalizer is running when SIGINT arrives (as in a database driver's cleanup)."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Python runs the handler before this returns: in here


def collect_one() -> None:
    holder = InterruptedWhileCollected()
    holder.self = holder  # type: ignore[attr-defined]  # a cycle: freed by the collector
    del holder
    gc.collect()


def test_python_drops_a_ctrl_c_that_lands_in_a_finalizer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the follower needs this module: with Python's default handler the interrupt is lost."""
    dropped: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: dropped.append(unraisable.exc_type))
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a test worker may ignore SIGINT
    try:
        collect_one()  # no KeyboardInterrupt reaches this frame: a follower went on polling
    finally:
        signal.signal(signal.SIGINT, previous)
    assert dropped == [KeyboardInterrupt]


def test_a_ctrl_c_in_a_finalizer_is_recorded() -> None:
    with deferred_interrupt() as interrupt:
        collect_one()
        assert interrupt.wait(5), "the Ctrl-C was lost"


def test_a_second_ctrl_c_raises_at_once() -> None:
    with deferred_interrupt() as interrupt:
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupt.wait(5)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)


def test_the_previous_handler_is_restored() -> None:
    before = signal.getsignal(signal.SIGINT)
    with deferred_interrupt():
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before
