"""Entry kind ``work_plan`` (工作方案): the checks of its fields and files, called by
:func:`~kepuyue.calls.services.submitting.submit_entry`."""

from __future__ import annotations

from .core import _validate_document


def _validate_work_plan(call, data, files, stops, checked, errors) -> None:
    kind = _validate_document(call, files.get("document"), "document", errors, required=True)
    if kind:
        checked.main, checked.main_ext = files["document"], kind
        checked.fields["file_format"] = kind
