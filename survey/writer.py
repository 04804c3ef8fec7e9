"""One writer per process: submissions are stored in small batches, each batch one transaction, in random order.

Writing every submission in a transaction of its own costs a disk sync each (the rollback
journal that keeps no trail needs them). The writer thread takes everything that queued
up while the previous batch was written and stores it in one transaction, so the syncs
are shared; the order inside a batch is shuffled, so that even the storage order within a
batch says nothing about the order of arrival. Each submission runs in a savepoint of its
own: one that fails (an invitation used twice) never takes the others with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from .errors import AppError

MAX_BATCH = 256
WAIT_SECONDS = 120  # a caller gives up waiting after this long (the database is stuck, not just busy)
_SHUFFLE = random.SystemRandom()


class WriterUnavailable(AppError):
    """The writer could not store the job in time (its database could not be opened, or is locked): 503."""

    def __init__(self, reason: str):
        super().__init__(f"Your answers could not be stored just now ({reason}). Go back and send them again.", 503)


@dataclass
class _Job:
    work: Callable[[Database], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class Writer:
    """A thread that owns one connection and runs queued write jobs in shared transactions."""

    def __init__(self, connect: Callable[[], Database], lock_path: str | None = None):
        self._connect = connect
        self._lock_path = lock_path
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, work: Callable[[Database], Any]) -> Any:
        """Run work(db) in the writer's next transaction and return its result (or raise its error)."""
        self._ensure_thread()
        job = _Job(work)
        self._queue.put(job)
        if not job.done.wait(WAIT_SECONDS):
            raise WriterUnavailable(f"the database did not answer within {WAIT_SECONDS} seconds")
        if job.error is not None:
            raise job.error
        return job.result

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="survey-writer", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        db = None
        while True:
            jobs = [self._queue.get()]
            while len(jobs) < MAX_BATCH:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            _SHUFFLE.shuffle(jobs)
            if db is None:
                try:
                    db = self._connect()
                except Exception as exc:  # the thread must outlive a database it cannot open yet
                    self._fail(jobs, WriterUnavailable(f"the database could not be opened: {exc}"))
                    continue
            with self._process_lock():
                self._write(db, jobs)

    @contextlib.contextmanager
    def _process_lock(self):
        """Hold the lock that makes the writers of several worker processes take turns.

        SQLite's own busy handling polls with growing sleeps (1, 2, 5, 10 ms ...); writers that
        queue on a file lock are woken by the kernel the moment the other one is done.
        """
        if self._lock_path is None:
            yield
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    @staticmethod
    def _fail(jobs: list[_Job], error: BaseException) -> None:
        for job in jobs:
            job.error = error
            job.done.set()

    @staticmethod
    def _write(db: Database, jobs: list[_Job]) -> None:
        conn = db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in jobs:
                conn.execute("SAVEPOINT job")
                try:
                    job.result = job.work(db)
                except Exception as exc:  # the job's own failure (e.g. invitation used): only it is undone
                    conn.execute("ROLLBACK TO job")
                    job.error = exc
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except BaseException as exc:  # the batch could not be written: nobody's answer counts as stored
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in jobs:
                if job.error is None:
                    job.error, job.result = exc, None
        finally:
            for job in jobs:
                job.done.set()


_WRITERS: dict[tuple[str, int], Writer] = {}
_WRITERS_LOCK = threading.Lock()


def writer_for(path: str, connect: Callable[[], Database]) -> Writer:
    """Return this process's writer for a database file (a fresh one after a fork)."""
    key = (os.path.abspath(path), os.getpid())
    with _WRITERS_LOCK:
        if key not in _WRITERS:
            _WRITERS[key] = Writer(connect, f"{key[0]}.writer-lock")
        return _WRITERS[key]
