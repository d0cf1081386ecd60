"""data_fetch: real emotional-speech corpora -> manifests that didan_lite reads.

For each corpus (EmoDB ``B``, eNTERFACE'05 ``E``, CASIA ``C``, RAVDESS,
CREMA-D, TESS, SAVEE, IEMOCAP) it knows the layout of real copies, maps the
labels to the canonical vocabulary of :mod:`didan_lite.manifest` (keeping the
original label), checks a copy against the expected file and class counts,
and downloads the free ones through pooch (mirrors, resume, licence
acceptance), each verified by its published checksum or, where none is
published, by its contents and then the hash recorded at its first download. Licence-gated corpora are never downloaded: a missing
copy gives step-by-step instructions.

From a notebook, one call gives a manifest or a message saying what to do::

    import data_fetch
    from didan_lite.manifest import read_manifest

    path = data_fetch.corpus_manifest("emodb", root="../shared/corpora/emodb")  # a local copy
    path = data_fetch.corpus_manifest("emodb", download=True, accept_license=True)  # or fetch it
    frame = read_manifest(path)

    task = data_fetch.get_task("B->C")      # Task(name="B-C", source="emodb", target="casia", emotions=(...))
    data_fetch.get_task("ravdess->tess")    # any pair: the shared emotions are found automatically

    report = data_fetch.verify("casia", "../shared/corpora/casia")
    print(report.summary())                 # missing / extra / unreadable / mislabelled, counts per class

From a shell::

    python -m data_fetch list
    python -m data_fetch download emodb --accept-license
    python -m data_fetch prepare casia --root ../shared/corpora/casia   # --strict, --out, --data-dir
    python -m data_fetch verify emodb --root ../shared/corpora/emodb

Files go into one cache folder (``data_dir=``, ``--data-dir``, or
``$DIDAN_LITE_DATA``; default ``~/.cache/didan_lite``), never into the copy:
see :mod:`data_fetch.cache`. Modules: ``corpora`` (specs), ``layouts``
(per-corpus path parsers), ``scan``, ``manifests`` (prepare, corpus_manifest), ``verification``, ``fetch`` (download),
``integrity`` (how a download is verified), ``file_lists``, ``video_audio`` (eNTERFACE's audio via PyAV, an
optional extra), ``tasks``, ``notebook_data`` (the notebooks' one call, and :func:`task_manifest_paths`, the one function that
turns a task name into manifests), ``cli``.
"""

from data_fetch.corpora import CORPORA, CorpusSpec, get_corpus
from data_fetch.fetch import download
from data_fetch.manifests import CorpusWarning, corpus_manifest, prepare
from data_fetch.notebook_data import task_manifest_paths
from data_fetch.tasks import TASKS, Task, get_task
from data_fetch.verification import VerifyReport, verify

__all__ = [
    "CORPORA",
    "CorpusSpec",
    "CorpusWarning",
    "TASKS",
    "Task",
    "VerifyReport",
    "corpus_manifest",
    "download",
    "get_corpus",
    "get_task",
    "prepare",
    "task_manifest_paths",
    "verify",
]
