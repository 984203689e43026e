"""`kerasgrade grade DIR -o OUT --scheduler ...`: a class graded on a Dask cluster."""

import csv
import os
import signal
import zipfile
from io import BytesIO

import pytest
from test_batch import assert_rows, class_folder, expected_rows

from autograder.cohort.cluster import ALLOWED_FAILURES, Scheduler
from autograder.cohort.remote import GRADE_RESOURCE, TASKS_PER_SLOT, grading_environment, packed
from autograder.cohort.run import grade_class
from autograder.grading.options import GradingOptions, OptionsError
from autograder.grading.untrusted.isolation import probe
from autograder.lab.digest import grading_digest
from autograder.lab.settings import RunSettings

distributed = pytest.importorskip("distributed")


def test_the_scheduler_option_names_a_local_cluster_or_an_address():
    assert Scheduler.parse("local:3") == Scheduler(None, 3)
    assert Scheduler.parse("tcp://lab-01:8786") == Scheduler("tcp://lab-01:8786")
    assert Scheduler.parse("local").workers >= 1
    for wrong in ("local:0", "local:two", "lab-01"):
        with pytest.raises(OptionsError, match="--scheduler"):
            Scheduler.parse(wrong)


def test_notebooks_and_checkers_on_a_worker_do_not_inherit_what_the_nanny_set():
    nanny = {"MALLOC_TRIM_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    worker = {**nanny, "OPENBLAS_NUM_THREADS": "4", "PATH": "/usr/bin", "CANCER_PROFILE": "smoke"}
    environment = grading_environment(worker)
    assert not set(nanny) & set(environment)
    # a value the nanny would not have set is the course's own, and stays
    assert environment == {
        "OPENBLAS_NUM_THREADS": "4",
        "PATH": "/usr/bin",
        "CANCER_PROFILE": "smoke",
    }


def test_a_submission_folder_travels_as_a_zip_of_its_files(tmp_path):
    folder = tmp_path / "submission_4242"
    (folder / "sub").mkdir(parents=True)
    (folder / "rnn_lab.ipynb").write_text("{}")
    (folder / "sub" / "notes.txt").write_text("hi")
    with zipfile.ZipFile(BytesIO(packed(folder))) as archive:
        assert sorted(archive.namelist()) == ["rnn_lab.ipynb", "sub/notes.txt"]
        assert archive.read("sub/notes.txt") == b"hi"


def test_a_rerun_with_nothing_to_grade_takes_the_isolation_from_the_saved_results():
    from autograder.cohort.cluster import recorded_isolation
    from autograder.cohort.gradebook import isolation_level
    from autograder.grading.untrusted.isolation import FOLDER, NAMESPACES, Isolation

    def saved(isolation: Isolation | None) -> dict:
        if isolation is None:
            return {"report": {"isolation": "not run", "isolation_warning": ""}}
        ran = {"isolation": isolation.description, "isolation_warning": isolation.warning()}
        return {"report": ran}

    weak = Isolation(FOLDER, "namespaces were refused")
    records = [saved(None), saved(Isolation(NAMESPACES)), saved(weak)]
    assert recorded_isolation(records) == weak  # the weakest, with its reason
    assert recorded_isolation(records[:1]) is None  # no notebook ran
    assert [isolation_level(record) for record in records] == ["not run", NAMESPACES, FOLDER]


def options(config) -> GradingOptions:
    return GradingOptions.of(
        config.lab, RunSettings.of("smoke", "generated"), phase_timeout=60, memory_gib=2,
        cell_timeout=20,
    )  # fmt: skip


@pytest.fixture()
def cluster():
    """A cluster of two workers this test can reach into (to kill or alter one)."""
    import dask

    settings = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
    }
    with dask.config.set(settings):
        local = distributed.LocalCluster(
            n_workers=2, threads_per_worker=TASKS_PER_SLOT, resources={GRADE_RESOURCE: 1},
            memory_limit=0, dashboard_address=None,
        )  # fmt: skip
        yield local
        local.close()


@pytest.mark.slow
@pytest.mark.cluster
def test_a_local_cluster_gives_the_rows_the_thread_pools_give(built, tmp_path):
    """The hostile corpus (tests/submissions) on ``--scheduler local:2``: every row as the
    thread pools give it (test_batch), the client the only writer of OUT."""
    expected = expected_rows(probe(()).level)
    corpus = class_folder(tmp_path, expected)
    out = tmp_path / "out"
    lines = []
    records = grade_class(
        built, [corpus], out, options=options(built), workers=0, progress=lines.append,
        scheduler=Scheduler.parse("local:2"),
    )  # fmt: skip
    assert_rows(out, expected)
    assert len(records) == len(expected)
    assert sum(line.startswith("Worker tcp://") for line in lines) == 2
    assert any(" submission" in line and " remaining" in line for line in lines)
    assert {record["worker"] for record in records} <= {
        line.split()[1].rstrip(":") for line in lines if line.startswith("Worker tcp://")
    }
    assert "<th>Dask worker</th>" in (out / "report.html").read_text()
    with open(out / "gradebook.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["worker"] for row in rows} == {record["worker"] for record in records}
    assert {row["isolation"] for row in rows} <= {probe(()).level, "not run"}
    rerun = []
    grade_class(
        built, [corpus], out, options=options(built), workers=0, progress=rerun.append,
        scheduler=Scheduler.parse("local:2"),
    )  # fmt: skip
    assert any(f"{len(expected)} submission(s) already graded" in line for line in rerun)
    assert not any(line.startswith("Connecting") for line in rerun)  # no worker needed
    assert "Isolation: notebooks" in (out / "report.html").read_text()  # from the records


@pytest.mark.slow
@pytest.mark.cluster
def test_a_worker_killed_in_the_middle_of_a_class_loses_no_row(built, cluster, tmp_path):
    """SIGKILL to the process of a worker that holds a submission, once the first row is in:
    its submission is graded again on the other worker, and every row is as on one host."""
    names = ["smithj_12345_67890_rnn_lab.ipynb", "missing_variable.ipynb", "empty.ipynb",
             "syntax_error.ipynb", "exception_in_answer.ipynb", "no_cells.ipynb"]  # fmt: skip
    expected = {name: row for name, row in expected_rows(probe(()).level).items() if name in names}
    corpus = class_folder(tmp_path, expected)
    watcher = distributed.Client(cluster)
    killed = []

    def progress(line: str) -> None:
        if killed or "remaining" not in line:
            return
        busy = {address: keys for address, keys in watcher.processing().items() if keys}
        for nanny in cluster.workers.values():
            if nanny.worker_address in busy and not killed:
                os.kill(nanny.process.pid, signal.SIGKILL)
                killed.append(busy[nanny.worker_address])
                print(f"killed worker {nanny.worker_address} holding {killed[0]}")

    grade_class(
        built, [corpus], tmp_path / "out", options=options(built), workers=0,
        progress=progress, scheduler=Scheduler(cluster.scheduler_address),
    )  # fmt: skip
    watcher.close()
    assert killed, "no worker was busy when the first row came in"
    assert_rows(tmp_path / "out", expected)


@pytest.mark.slow
@pytest.mark.cluster
def test_a_worker_with_another_grading_digest_is_refused(built, cluster, tmp_path):
    client = distributed.Client(cluster)
    odd = sorted(cluster.scheduler_info["workers"])[0]

    def other_toolkit():
        import autograder.cohort.remote as remote

        remote.grading_digest = lambda config: "0" * 16

    client.run(other_toolkit, workers=[odd])
    client.close()
    name = "smithj_12345_67890_rnn_lab.ipynb"
    corpus = class_folder(tmp_path, [name])
    lines = []
    grade_class(
        built, [corpus], tmp_path / "out", options=options(built), workers=0,
        progress=lines.append, scheduler=Scheduler(cluster.scheduler_address),
    )  # fmt: skip
    refused = [line for line in lines if line.startswith("Refused worker")]
    assert refused == [
        f"Refused worker {odd}: its grading digest is {'0' * 16}, not "
        f"{grading_digest(built)}; install the "
        "same kerasgrade and lab there."
    ]
    assert_rows(tmp_path / "out", {name: expected_rows(probe(()).level)[name]})
