"""Scrapy's downloader with its per-domain concurrency limit kept when there is no download
delay.

Scrapy 2.19's `Downloader._process_queue` starts queued requests in a loop while
`slot.free_transfer_slots() > 0`, but a request only counts as transferring once its
download task runs, and on the asyncio reactor that task starts on the next turn of the
event loop. With a download delay the loop stops after one request, so the limit holds;
with no delay (`crawl.download_delay = 0`, AutoThrottle off) one pass starts every queued
request of the domain, up to CONCURRENT_REQUESTS (16) at once instead of
CONCURRENT_REQUESTS_PER_DOMAIN (2). Measured against the local mirror: 15 requests in
flight to one host, and the bursts of 15 new connections overflowed the mirror's listen
queue, whose dropped SYNs the kernel resends only after 1 s: most of the crawl's wall time.
A real site would see the same bursts: impolite.

The fix counts a request as transferring from the moment it is scheduled (the download
task adds it again, harmlessly, and removes it when done, as before).
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PoliteDownloader(Downloader):
    def _process_queue(self, slot: Slot) -> None:
        # The same steps as Scrapy's, but for the line marked below.
        if slot.latercall:
            return  # a delayed call will process the queue
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # counted now, not when the task first runs
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:  # one request per delay
                self._process_queue(slot)
                break
