"""Where trainings and slow computations run, out of the web page's way.

- :mod:`.worker`: the loop every training worker drives, and the local worker process's life.
- :mod:`.starter`: the process that forks local workers and own-process calls, PyTorch already imported.
- :mod:`.own_process`: one CPU-bound call in a process of its own.
- :mod:`.executor`: the executor interface and the local pool of worker processes.
- :mod:`.ray_executor`: the optional Ray executor (each training a Ray actor).
- :mod:`.factory`: which executor this process uses (local or Ray, from the settings).
- :mod:`.background`: a training driven from this process, with a status a page can poll.
- :mod:`.compute_once`: results computed once per key, bounded, in the caller or in the background.

Import order: worker, then starter, then own_process, then executor, then ray_executor, then factory, then
background. This package imports nothing at its top, so the starter (``python -m lstm_core.execution.starter``),
and every worker it forks, loads neither Ray nor the app's side.
"""
