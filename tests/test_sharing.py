"""A server shared by a class: each browser owns the runs it started; on LSTM_LAB_SHARED=1 the others'
runs are read-only (not renamed, deleted or continued), the instructor password unlocks them, and
uploads are limited per session. Without the setting, everything stays allowed."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import zipfile
from types import SimpleNamespace

import pytest
from streamlit import get_option as st_option
from streamlit import set_option as st_set_option
from streamlit.testing.v1 import AppTest

import lstm_core
from lab_ui import sharing
from lstm_core.ownership import owner_digest
from lstm_core.runs import CONFIG_FILE, read_config
from tests.page_helpers import unescaped

RUNS_PAGE = "../pages/8_runs.py"
TRAIN_PAGE = "../pages/1_train.py"
ME, SOMEONE = "a" * 32, "b" * 32


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared-runs")
    store = lstm_core.RunStore(root)
    ids = []
    for name in ("mine", "theirs"):
        config = lstm_core.TrainConfig(corpus="seed", hidden_size=8, embedding_dim=8, seq_len=20, batch_size=8,
                                       max_seconds=None, epochs=0.02, eval_every_seconds=1e9, eval_chars=2_000,
                                       preview_every_seconds=1e9)
        training = lstm_core.CharTraining(config, store=store, name=name)
        training.run()
        ids.append(training.run_dir.name)
    store.claim(store.path(ids[0]), ME)
    store.claim(store.path(ids[1]), SOMEONE)
    return root, ids


@pytest.fixture
def store(isolated_run_store, trained):
    root, _ = trained
    shutil.copytree(root, isolated_run_store, dirs_exist_ok=True)
    return lstm_core.RunStore(isolated_run_store)


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setenv("LSTM_LAB_SHARED", "1")


def runs_page(password: str | None = None) -> AppTest:
    at = AppTest.from_file(RUNS_PAGE, default_timeout=60)
    at.session_state["owner_id"] = ME  # this browser
    if password:
        at.secrets["instructor_password"] = password
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def choose(at: AppTest, run_id: str) -> None:
    at.selectbox(key="manage_run").set_value(run_id).run()


def delete_button(at: AppTest):
    return next(b for b in at.button if b.label == "Delete run")


def test_the_store_records_who_started_a_run_and_keeps_it(store, trained):
    _, (mine, theirs) = trained
    me, someone = owner_digest(ME, store.root), owner_digest(SOMEONE, store.root)
    assert dict(zip(store.list()["id"], store.list()["owner"])) == {mine: me, theirs: someone}
    store.claim(store.path(theirs), ME)  # a run that has an owner keeps it
    assert read_config(store.path(theirs))["owner"] == someone
    (store.root / "index.sqlite").unlink()  # a lost index is rebuilt with the owners
    assert set(lstm_core.RunStore(store.root).list()["owner"]) == {me, someone}


def test_an_index_made_before_owners_is_upgraded(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    with sqlite3.connect(root / "index.sqlite") as db:
        db.execute("""CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT, kind TEXT, status TEXT, created REAL,
                      updated REAL, seconds REAL, steps INTEGER, train_loss REAL, best_valid_loss REAL, summary TEXT)""")
    store = lstm_core.RunStore(root)
    path = store.create("after the upgrade", {"kind": "char"}, owner=ME)
    assert store.list().set_index("id").loc[path.name, "owner"] == owner_digest(ME, root)


def test_an_import_belongs_to_its_importer_not_to_the_exporter(store, trained):
    _, (mine, theirs) = trained
    imported = store.import_zip(lstm_core.export_zip(store.path(theirs)), owner=ME)
    assert read_config(imported)["owner"] == owner_digest(ME, store.root)


def test_no_run_on_disk_nor_in_an_export_holds_a_browsers_token(store, trained):
    _, (mine, theirs) = trained
    for run_id in (mine, theirs):
        assert ME not in (store.path(run_id) / CONFIG_FILE).read_text() and \
            SOMEONE not in (store.path(run_id) / CONFIG_FILE).read_text()
        with zipfile.ZipFile(io.BytesIO(lstm_core.export_zip(store.path(run_id)))) as archive:
            assert "owner" not in json.loads(archive.read(CONFIG_FILE))
    assert not any(ME in str(value) or SOMEONE in str(value) for value in store.list()["owner"])


def test_a_run_that_recorded_a_raw_token_is_hashed_and_still_its_owners(store, trained):
    _, (mine, _) = trained
    path = store.path(mine)
    (path / CONFIG_FILE).write_text(json.dumps({**read_config(path), "owner": ME}))  # saved before the hash
    with sqlite3.connect(store.root / "index.sqlite") as db:
        db.execute("UPDATE runs SET owner = ? WHERE id = ?", (ME, mine))
    reopened = lstm_core.RunStore(store.root)
    assert read_config(path)["owner"] == owner_digest(ME, store.root)
    assert reopened.list().set_index("id").loc[mine, "owner"] == owner_digest(ME, store.root)


def test_a_token_read_from_a_download_does_not_take_over_a_run(store, trained, shared):
    """User B downloads A's run, takes whatever owner field it holds (or the index's) as a cookie, and
    still cannot rename, delete or continue A's run."""
    _, (mine, theirs) = trained
    with zipfile.ZipFile(io.BytesIO(lstm_core.export_zip(store.path(mine)))) as archive:
        exported = json.loads(archive.read(CONFIG_FILE))
    recorded = read_config(store.path(mine))["owner"]
    for forged in (exported.get("owner"), recorded, recorded.split(":")[-1][:32], "a" * 31 + "b"):
        at = AppTest.from_file(RUNS_PAGE, default_timeout=60)
        if forged:
            at.session_state["owner_id"] = forged
        at.run()
        choose(at, mine)
        assert any("Read-only: another user started this run" in i.value for i in at.info), forged
        assert at.checkbox(key=f"confirm_{mine}").disabled and delete_button(at).disabled
        assert at.text_input[0].disabled
    assert mine in set(store.list()["id"])


def test_on_a_shared_server_another_users_run_is_read_only(store, trained, shared):
    _, (mine, theirs) = trained
    at = runs_page()
    table = at.table[0].value.set_index("name")
    assert table.loc["mine", "started by"] == "you" and table.loc["theirs", "started by"] == "another user"
    choose(at, theirs)
    assert any("Read-only: another user started this run" in i.value for i in at.info)
    assert at.checkbox(key=f"confirm_{theirs}").disabled and delete_button(at).disabled
    assert at.text_input[0].disabled
    assert at.get("download_button"), "someone else's run can still be downloaded"

    choose(at, mine)
    assert not any("Read-only" in i.value for i in at.info)
    at.checkbox(key=f"confirm_{mine}").check().run()
    delete_button(at).click().run()
    assert list(store.list()["id"]) == [theirs]


def test_the_instructor_password_unlocks_every_run(store, trained, shared):
    _, (mine, theirs) = trained
    at = runs_page(password="molière")
    at.text_input(key="instructor_password_entry").input("wrong").run()
    assert any("not the instructor password" in e.value for e in at.error)
    at.text_input(key="instructor_password_entry").input("molière").run()
    assert at.session_state["instructor"] is True
    choose(at, theirs)
    assert not any("Read-only" in i.value for i in at.info)
    at.checkbox(key=f"confirm_{theirs}").check().run()
    delete_button(at).click().run()
    assert list(store.list()["id"]) == [mine]


def test_wrong_passwords_are_slowed_down_after_three(store, trained, shared, monkeypatch):
    """After three wrong tries, each further try waits longer (5 s, then 10 s, ...), the page says so, and a try
    made while waiting is refused unread, even the right password. The clock is the test's."""
    now = [1000.0]
    monkeypatch.setattr("lab_ui.sharing.clock", lambda: now[0])
    at = runs_page(password="molière")

    def attempt(password: str) -> str:
        at.text_input(key="instructor_password_entry").input(password).run()
        assert at.text_input(key="instructor_password_entry").value == "", "the box is emptied after each try"
        return " ".join(e.value for e in at.error)

    for _ in range(2):
        assert attempt("wrong") == "That is not the instructor password."
    assert "Wait 5 s before the next try" in attempt("wrong")  # the 3rd: from now on, each try waits
    assert "wait 5 s before trying again" in attempt("molière"), "refused unread while waiting"
    assert "instructor" not in at.session_state
    now[0] += 5.5
    assert "Wait 10 s before the next try" in attempt("wrong")  # the 4th: the wait doubles
    now[0] += 9
    assert "wait 1 s before trying again" in attempt("molière")
    now[0] += 1.5
    at.text_input(key="instructor_password_entry").input("molière").run()
    assert at.session_state["instructor"] is True


def test_without_the_shared_setting_everything_is_allowed(store, trained):
    _, (mine, theirs) = trained
    at = runs_page()
    assert "started by" not in at.table[0].value
    choose(at, theirs)
    assert not any("Read-only" in i.value for i in at.info)
    assert not at.checkbox(key=f"confirm_{theirs}").disabled


def test_a_shared_server_limits_imports_per_owner(store, trained, shared, monkeypatch):
    """Each click on Import counts (one upload imported 3 times is 3), and the allowance is the owner's,
    server-wide: a new session of the same browser (a reload) gets no fresh allowance."""
    _, (mine, theirs) = trained
    monkeypatch.setattr("lab_ui.sharing.SHARED_UPLOADS", 2)
    exported = lstm_core.export_zip(store.path(mine))
    at = runs_page()
    at.file_uploader(key="import_run").set_value(("run.zip", exported, "application/zip")).run()
    for _ in range(3):
        next(b for b in at.button if b.label == "Import").click().run()
    assert any("each user may upload or import 2 files" in e.value for e in at.error)
    assert sum(store.list()["status"] == "imported") == 2
    assert set(store.list().query("status == 'imported'")["owner"]) == {owner_digest(ME, store.root)}
    reloaded = runs_page()  # the same cookie, a new page session
    reloaded.file_uploader(key="import_run").set_value(("other.zip", exported, "application/zip")).run()
    next(b for b in reloaded.button if b.label == "Import").click().run()
    assert any("each user may upload or import 2 files" in e.value for e in reloaded.error)
    assert sum(store.list()["status"] == "imported") == 2


def test_a_shared_server_refuses_a_file_over_its_size_limit(store, trained, shared, monkeypatch):
    _, (mine, _) = trained
    monkeypatch.setattr("lab_ui.sharing.SHARED_IMPORT_MB", 1)
    at = runs_page()
    assert at.file_uploader(key="import_run").proto.max_upload_size_mb == 1, "the browser refuses it first"
    at.file_uploader(key="import_run").set_value(("run.zip", b"0" * 1_500_000, "application/zip")).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert any("files up to 1 MB are accepted (this one is 1.5 MB)" in unescaped(e.value) for e in at.error)
    assert len(store.list()) == 2


def test_only_your_own_paused_runs_are_offered_to_continue(store, trained, shared):
    _, (mine, theirs) = trained
    for run_id in (mine, theirs):
        store.update(store.path(run_id), status="paused")
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=60)
    at.session_state["owner_id"] = ME
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.label == "Continue a paused run (1)" for e in at.expander)
    choice = at.selectbox(key="char_continue_choice")
    assert len(choice.options) == 1 and choice.options[0].endswith(mine), choice.options  # "name · id"
    assert not any(theirs in option for option in choice.options)
    assert choice.value == mine


def test_a_started_training_belongs_to_this_browser(isolated_run_store, shared):
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=60)
    at.session_state["owner_id"] = ME
    at.query_params.update(preset="seed", seconds="5")
    at.run()
    for name, value in dict(hidden_size=8, batch_size=8, seq_len=20).items():
        at.number_input(key=f"train:seed:{name}").set_value(value)
    at.run()
    at.button(key="char_start").click().run()
    at.button(key="char_stop").click().run()
    store = lstm_core.RunStore(isolated_run_store)
    (path,) = [store.path(run_id) for run_id in store.list()["id"]]
    assert read_config(path)["owner"] == owner_digest(ME, isolated_run_store)
    assert (path / CONFIG_FILE).is_file()
    AppTest.from_string("from lab_ui import live_training\nlive_training._session_slots.clear()").run()


@pytest.mark.parametrize("page", ["../pages/2_gates.py", "../pages/3_generate.py"])
def test_a_link_with_a_run_id_too_long_for_a_file_name_gets_one_sentence(page):
    """``?run=`` plus 4,000 characters: the file system refuses the name (ENAMETOOLONG); the page says in one
    short sentence that there is no such model, never an OSError with the store's path."""
    at = AppTest.from_file(page, default_timeout=120)
    at.query_params["run"] = "A" * 4000
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (warning,) = [w.value for w in at.warning if "link's run" in w.value]
    assert "has no saved model on this server" in warning and len(warning) < 250
    assert "Errno" not in warning and "/" not in warning


def test_a_shared_server_redacts_unforeseen_errors_to_one_sentence(shared):
    """An error no page foresaw: the browser gets Streamlit's generic sentence, the log gets the traceback."""
    before = st_option("client.showErrorDetails")
    try:
        at = AppTest.from_string("from lab_ui import page_setup\npage_setup('Probe')\n"
                                 "open('/no/such/server/path/' + 'A' * 10)", default_timeout=60)
        at.run()
        assert st_option("client.showErrorDetails") == "none"
        assert "/no/such/server/path" not in str(at.exception[0].proto)
    finally:
        st_set_option("client.showErrorDetails", before)


class BusyTrainer:
    """A stand-in for a training this owner runs in another tab: only its status is asked."""

    def __init__(self, status: str = "running"):
        self.status = status

    def snapshot(self, since: int = 0):
        return SimpleNamespace(status=self.status)


def test_each_user_may_have_two_trainings_running_or_queued(isolated_run_store, shared, monkeypatch):
    """The owner already has two trainings running or queued (in other tabs, or a comparison counting once): a
    third start is refused with a sentence before any run folder is made; once one ends, a start is allowed.
    The cap is a setting."""
    busy = [BusyTrainer("running"), BusyTrainer("queued")]
    monkeypatch.setitem(sharing._trainings, f"{isolated_run_store}|{owner_digest(ME, isolated_run_store)}",
                        [[busy[0]], [busy[1], BusyTrainer("running")]])
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=60)
    at.session_state["owner_id"] = ME
    at.query_params.update(preset="seed", seconds="5")
    at.run()
    at.button(key="char_start").click().run()
    assert any("each user may have 2 trainings running or queued" in unescaped(e.value) for e in at.error)
    assert lstm_core.RunStore(isolated_run_store).list().empty, "nothing was made"
    allowed = AppTest.from_string("from lab_ui.sharing import check_training_allowance\n"
                                  "try:\n    check_training_allowance()\n    print('allowed')\n"
                                  "except ValueError as err:\n    import streamlit as st\n    st.error(str(err))")
    allowed.session_state["owner_id"] = ME
    monkeypatch.setenv("LSTM_LAB_MAX_TRAININGS_PER_USER", "3")  # a setting
    assert not allowed.run().error
    monkeypatch.setenv("LSTM_LAB_MAX_TRAININGS_PER_USER", "2")
    assert allowed.run().error
    busy[0].status = "paused"  # one of them paused: a new one may start
    assert not allowed.run().error
    busy[0].status = "running"
    allowed.session_state["owner_id"] = SOMEONE
    assert not allowed.run().error, "another user is not held back by this one's trainings"
    AppTest.from_string("from lab_ui import live_training\nlive_training._session_slots.clear()").run()


def test_a_link_asking_for_a_day_of_training_is_clamped_on_a_shared_server(isolated_run_store, shared):
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=60)
    at.query_params.update(preset="seed", seconds="86400")
    at.run()
    assert not at.exception
    assert any("seconds = 86400" in unescaped(w.value) and "1800 is used instead" in unescaped(w.value)
               for w in at.warning)
    assert at.number_input(key="train:seed:seconds").value == 1800.0
