"""``streamlit run`` with a log of every script run, measured on the server's side (for scripts/load_test.py).

    python scripts/timed_server.py LOG.jsonl run app.py --server.port 8501 ...

Each line of the log is one script run that ended: the session, the page's script, whether it was a
fragment's rerun, and three wall-clock times (``time.time()``, the load test's clock too): when the
session asked for the run (the browser's rerun request reached the server), when the script started,
and when it ended (its last message was handed to the session, to be sent).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from streamlit.runtime.app_session import AppSession
from streamlit.runtime.scriptrunner import ScriptRunnerEvent
from streamlit.web.cli import main as streamlit_main

ENDINGS = {ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS: "success",
           ScriptRunnerEvent.SCRIPT_STOPPED_WITH_COMPILE_ERROR: "compile error",
           ScriptRunnerEvent.SCRIPT_STOPPED_FOR_RERUN: "rerun",
           ScriptRunnerEvent.FRAGMENT_STOPPED_WITH_SUCCESS: "success"}


def install(log_path: Path) -> None:
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the server's life
    lock = threading.Lock()
    request_rerun, on_event = AppSession.request_rerun, AppSession._on_scriptrunner_event

    def timed_request_rerun(self, client_state):
        if getattr(self, "_timing_requested", None) is None:
            self._timing_requested = time.time()
        return request_rerun(self, client_state)

    def timed_event(self, sender, event, *args, **kwargs):
        if event == ScriptRunnerEvent.SCRIPT_STARTED:
            self._timing_started = time.time()
            page = (kwargs.get("pages") or {}).get(kwargs.get("page_script_hash"), {})
            self._timing_page = page.get("url_pathname") or page.get("page_name") or \
                Path(page.get("script_path", "")).stem
            self._timing_fragment = bool(kwargs.get("fragment_ids_this_run"))
        elif event in ENDINGS and getattr(self, "_timing_started", None) is not None:
            record = {"session": self.id, "page": "/" + self._timing_page.strip("/"), "fragment": self._timing_fragment,
                      "requested": getattr(self, "_timing_requested", None) or self._timing_started,
                      "started": self._timing_started, "ended": time.time(), "how": ENDINGS[event]}
            self._timing_requested = self._timing_started = None
            with lock:
                log.write(json.dumps(record) + "\n")
        return on_event(self, sender, event, *args, **kwargs)

    AppSession.request_rerun = timed_request_rerun
    AppSession._on_scriptrunner_event = timed_event


if __name__ == "__main__":
    install(Path(sys.argv[1]))
    sys.argv = ["streamlit", *sys.argv[2:]]
    streamlit_main(prog_name="streamlit")
