"""The workbench as a REST service (``workbench serve``): FastAPI over the run repository.

Layers (DESIGN.md): the service sits on top with the command line. Every call it makes into
the research, analytics and engine layers goes through :mod:`workbench.service.adapter`; the
other modules are the service's own: :mod:`~workbench.service.config` (the settings),
:mod:`~workbench.service.safety` (what a client may name: data paths, strategies, names, ids;
tokens and rate limits), :mod:`~workbench.service.models` (request bodies and their limits),
:mod:`~workbench.service.jobs` (the queue in the run repository, the process pool or Dask
executor, cancellation, recovery), :mod:`~workbench.service.worker` (what runs in a worker),
:mod:`~workbench.service.page` (the runs page), :mod:`~workbench.service.logs` (one JSON line
per request and per job state change) and :mod:`~workbench.service.app` (the routes).
"""
