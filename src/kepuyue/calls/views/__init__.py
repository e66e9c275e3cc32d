"""Pages of calls for works (征集): the unit's entries and uploads, the tus endpoint, the judges' blind
scoring, the joint-action manager's panel and the public galleries.

Thin views: the unit comes from the signed-in account's ``Membership``, never from the request; fields
such as ``organization`` or ``status`` in a post are ignored because the services read only the fields
they know. Permissions are the predicates of ``kepuyue.calls.rules``; an entry a user may not see is a 404.

The package, one module per audience: :mod:`.entries` (the unit's pages), :mod:`.tus` (resumable
uploads), :mod:`.judging` (judges), :mod:`.managing` (the joint-action manager) and :mod:`.public`
(the galleries); :mod:`.common` holds the lookups they share.
"""

from .entries import entry_action, entry_check, entry_detail, entry_file, entry_new, my_entries
from .individual import individual_new, personal_entries
from .judging import judge_call, judge_entry, judge_home
from .managing import manage_call, manage_entry, manage_home
from .public import book_list_xlsx, call_results, gallery_index
from .tus import tus_create, tus_upload

__all__ = [
    "book_list_xlsx",
    "call_results",
    "entry_action",
    "entry_check",
    "entry_detail",
    "entry_file",
    "entry_new",
    "gallery_index",
    "individual_new",
    "personal_entries",
    "judge_call",
    "judge_entry",
    "judge_home",
    "manage_call",
    "manage_entry",
    "manage_home",
    "my_entries",
    "tus_create",
    "tus_upload",
]
