"""Run per-item work concurrently with rich progress, counting provider failures.

A :class:`~pluralign.errors.ProviderError` on one item is counted (and the first few messages
kept) and the item stays not-done, so a re-run retries it; any other exception propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from pluralign.errors import ProviderError

T = TypeVar("T")


@dataclass
class Tally:
    """Counts of one step; ``errors`` keeps up to 5 distinct failure messages."""

    written: int = 0
    already_done: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def fail(self, exc: ProviderError) -> None:
        self.failed += 1
        msg = exc.message
        if len(self.errors) < 5 and msg not in self.errors:
            self.errors.append(msg)


@contextmanager
def progress_bar(total: int, description: str, enabled: bool = True):
    """Yield ``advance()``; shows a rich progress bar on stderr when ``enabled``."""
    if not enabled:
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as prog:
        task = prog.add_task(description, total=total)
        yield lambda n=1: prog.advance(task, n)


def run_items(
    items: Sequence[T],
    work: Callable[[T], None],
    tally: Tally,
    concurrency: int,
    description: str,
    show_progress: bool = True,
) -> None:
    """Call ``work(item)`` for every item, ``concurrency`` at a time."""
    with progress_bar(len(items), description, show_progress) as advance:

        def one(item: T) -> None:
            try:
                work(item)
            except ProviderError as exc:
                tally.fail(exc)
            advance()

        if concurrency <= 1 or len(items) <= 1:
            for item in items:
                one(item)
            return
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for fut in [pool.submit(one, it) for it in items]:
                fut.result()
