"""Read a time window as consecutive slices fetched at once, handed on in time order.

A FilterLogEvents page is a round trip to AWS and the next page needs the
previous one's token, so one long window is read at the speed of the network, not of the
analyzer. Slices of the window have no such chain: each is paged by its own thread, a few pages
ahead, while the reader consumes the slices oldest first, so the events still come in time
order (the join needs each stream's START before its REPORT) and memory stays bounded by the
pages held ahead. CloudWatch Logs throttles per account and region; the reader's own retry
with backoff absorbs that, and a handful of fetchers stays well inside the quota.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Callable, TypeVar

T = TypeVar("T")

#: Pages a slice's fetcher may hold ahead of the reader (FilterLogEvents pages are ≤ 1 MB).
PAGES_AHEAD = 8
#: How often a blocked fetcher checks whether the reader has gone away.
_STOP_POLL_S = 0.1

_DONE = object()


def time_slices(start_ms: int, end_ms: int, count: int) -> list[tuple[int, int]]:
    """``count`` consecutive slices of [start, end], both ends included, none overlapping.

    FilterLogEvents includes both ``startTime`` and ``endTime``, so each slice but the last ends
    1 ms before the next one starts: an event on a boundary is read once.
    """
    if count <= 1 or end_ms - start_ms < count:
        return [(start_ms, end_ms)]
    bounds = [start_ms + (end_ms - start_ms) * i // count for i in range(count)] + [end_ms + 1]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(count)]


def in_order(fetchers: Sequence[Callable[[], Iterable[T]]]) -> Iterator[T]:
    """Items of every fetcher, the first fetcher's first; all fetchers run at once.

    A fetcher's exception is raised here, in the reader, when its turn comes (earlier slices
    are handed on first). Closing the iterator early stops the fetchers at their next page.
    """
    if len(fetchers) == 1:
        yield from fetchers[0]()
        return
    stop = threading.Event()
    queues: list[queue.Queue[object]] = [queue.Queue(PAGES_AHEAD) for _ in fetchers]
    threads = [
        threading.Thread(target=_fill, args=(fetch, q, stop), daemon=True,
                         name="lambda-trace-prefetch")
        for fetch, q in zip(fetchers, queues)
    ]
    for thread in threads:
        thread.start()
    try:
        for q in queues:
            while True:
                item = q.get()
                if item is _DONE:
                    break
                if isinstance(item, _Failure):
                    raise item.error
                yield item  # type: ignore[misc]
    finally:
        stop.set()
        for thread in threads:
            thread.join()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _fill(fetch: Callable[[], Iterable[object]], q: queue.Queue[object],
          stop: threading.Event) -> None:
    try:
        for item in fetch():
            if not _put(q, item, stop):
                return
    except BaseException as exc:  # handed to the reader, which raises it in its own thread
        _put(q, _Failure(exc), stop)
        return
    _put(q, _DONE, stop)


def _put(q: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=_STOP_POLL_S)
            return True
        except queue.Full:
            continue
    return False
