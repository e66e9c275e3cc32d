"""Calls for works (征集): submitting entries, the entry workflow, judging and publishing.

Plain functions over models; the unit's pages, the judges' and managers' pages and the admin call them.
Every rule's message is marked for translation (Simplified Chinese source text) and names the field and the plan section it comes from
(``方案 四(二)2``) or says the rule is the platform's (``平台要求``).

Files reach :func:`submit_entry` as :class:`Upload` objects: complete files on LOCAL disk (a multipart
upload streamed to a temporary file by ``kepuyue.calls.uploads``, or a finished tus upload), never in
memory. They are validated first (``kepuyue.calls.media``), then saved under their final names in
private storage; when anything fails, whatever was saved is deleted and no row is left.

The package: :mod:`.core` (uploads, limits, eligibility, file storage, the document check every kind
shares), one module per entry kind (:mod:`.video`, :mod:`.citywalk`, :mod:`.essay`, :mod:`.work_plan`,
:mod:`.book_list`, :mod:`.link`), :mod:`.submitting` (validate by kind, then store),
:mod:`.publishing` (the entry workflow and the public copies) and :mod:`.judging` (judges, scores,
results). Every public name is importable from ``kepuyue.calls.services``.
"""

from .book_list import format_isbn13, normalize_isbn
from .core import (
    DEFAULT_DOCUMENT_MAX_BYTES,
    DEFAULT_IMAGE_MAX_BYTES,
    DEFAULT_IMAGE_MAX_PIXELS,
    DEFAULT_MAX_IMAGES,
    DEFAULT_VIDEO_MAX_BYTES,
    HASH_CHUNK,
    MAX_DOCX_XML_BYTES,
    Upload,
    cite,
    eligibility_problem,
    files_storage,
    individual_fields,
    individual_problem,
    open_calls_for,
    sha256_of,
    temp_dir,
    upload_limits,
)
from .essay import count_chars, docx_text
from .judging import (
    EntryResult,
    ScoreError,
    assign_judge,
    judge_progress,
    judgeable_entries,
    judges_of,
    remove_judge,
    results,
    score_entry,
    weighted_total,
)
from .publishing import ACTIONS, TRANSITIONS, TransitionError, published_entries, transition
from .submitting import FILE_FIELDS, precheck_entry, submit_entry, submit_individual_entry

__all__ = [
    "ACTIONS",
    "DEFAULT_DOCUMENT_MAX_BYTES",
    "DEFAULT_IMAGE_MAX_BYTES",
    "DEFAULT_IMAGE_MAX_PIXELS",
    "DEFAULT_MAX_IMAGES",
    "DEFAULT_VIDEO_MAX_BYTES",
    "EntryResult",
    "individual_fields",
    "individual_problem",
    "submit_individual_entry",
    "FILE_FIELDS",
    "HASH_CHUNK",
    "MAX_DOCX_XML_BYTES",
    "ScoreError",
    "TRANSITIONS",
    "TransitionError",
    "Upload",
    "assign_judge",
    "cite",
    "count_chars",
    "docx_text",
    "eligibility_problem",
    "files_storage",
    "format_isbn13",
    "judge_progress",
    "judgeable_entries",
    "judges_of",
    "normalize_isbn",
    "open_calls_for",
    "precheck_entry",
    "published_entries",
    "remove_judge",
    "results",
    "score_entry",
    "sha256_of",
    "submit_entry",
    "temp_dir",
    "transition",
    "upload_limits",
    "weighted_total",
]
