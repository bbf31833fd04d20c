"""Keep the cyclic garbage collector off the prepared decks, which live as long as the process.

A prepared deck is tens of thousands of small objects (terms, keys, rival wordings) that never
form a cycle and never become garbage while the deck is served. Python's collector still walks
them in every full collection: with the bundled decks alone one such pass takes about 25 ms,
and it falls in the middle of whichever answer is being graded when it triggers (word caches
filling up as new answers arrive trigger it). ``gc.freeze`` moves every object alive now into a
generation the collector never scans; objects freed by reference counting (a deck replaced by
/reload or a new upload) are still freed at once.
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Collect what is garbage now, then hide every surviving object from later collections.

    Call it once the long-lived objects exist: after decks are prepared, and at the end of
    start-up. Collecting first keeps garbage from being frozen for good; after the first
    call a collection only walks the objects made since, so calling it again is cheap. The
    collection thresholds are left alone: grading frees almost everything it allocates by
    reference counting, so young collections are rare and short (measured, bench/grading_speed).
    """
    gc.collect()
    gc.freeze()
