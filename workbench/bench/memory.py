"""Peak memory of this process, for the benchmarks' ``peak_rss_mb`` figures.

``getrusage(RUSAGE_SELF).ru_maxrss`` is not this process's own peak when the process was
started by ``fork`` + ``exec`` (multiprocessing's ``spawn``, which every benchmark uses to give
each scenario a fresh interpreter): Linux keeps the larger of the forked image's resident set
and the new program's, so a child spawned by a parent holding 600 MB reports at least 600 MB
however little it uses. ``bench eod`` run on a fresh machine generated its 5-year dataset in
the parent first and so reported ~440 MB for a 340 MB scenario. ``VmHWM`` in
``/proc/self/status`` is the high-water mark of this program's own address space; it is read
where it exists, ``ru_maxrss`` elsewhere (macOS counts bytes there, Linux kilobytes).
"""

from __future__ import annotations

import sys

STATUS = "/proc/self/status"


def peak_rss_mb(status: str = STATUS) -> float:
    """This process's peak resident set size in MiB (see the module doc)."""
    try:
        with open(status, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
