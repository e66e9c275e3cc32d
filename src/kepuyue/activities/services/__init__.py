"""Activity 活动 services: the rules of an activity, creating and editing it, and its workflow.

Every rule here explains itself in Chinese and names the field it is about; the publishing form,
the Excel/CSV import (``kepuyue.activities.importing``) and the API call the same functions, so
they accept and refuse the same things. Times are aware datetimes; a naive one is Beijing time
(Asia/Shanghai). Dates compared with a joint action's window are Beijing calendar days.

Plan sources: activities are marked with their joint action and brand (plan 八(一) “发布活动时请突出
标记活动品牌”); the joint actions' time windows are 五(二) (2025年7—10月), 六(二)2 (9月15—25日) and
七(三) (9月1—30日); the others run in the campaign month. An activity of no joint action is a
campaign-wide activity (全国科普月活动, e.g. a science association's main-venue activity): it has no
brand or key task and runs in the campaign month (plan 八(一) “8月10日起，各方可……发布重点活动信息”).

The package: :mod:`.validation` (every rule, one by one and for a whole activity), :mod:`.editing`
(creating and changing drafts, posters), :mod:`.workflow` (the one transition table and
:func:`transition`) and :mod:`.display` (bit sets, masked phones, the public querysets). Every public
name is importable from ``kepuyue.activities.services``.
"""

from .brands import BrandSuggestion, brand_required_error, brands_of, suggest_brand, suggestions
from .display import (
    activities_of,
    bit_choices,
    bits,
    choices_of,
    labels_of,
    mask_phone,
    members,
    public_activities,
)
from .editing import (
    EDITABLE_STATUSES,
    compute_search_text,
    create_activity,
    refresh_search_text,
    region_codes,
    update_activity,
)
from .validation import (
    BIT_FIELDS,
    CAMPAIGN_WIDE_LABEL,
    COUNT_FIELDS,
    COUNT_MAX,
    COUNT_MAX_MESSAGE,
    COUNT_MIN_MESSAGE,
    FIELD_LABELS,
    MULTILINE_FIELDS,
    POSTER_FORMATS,
    POSTER_MAX_BYTES,
    POSTER_MAX_PIXELS,
    TEXT_FIELDS,
    TEXT_LABELS,
    TEXT_LIMITS,
    VALUE_FIELDS,
    _raise,
    as_beijing,
    beijing_day,
    brand_error,
    campaign_window_text,
    check_poster,
    chinese_date,
    clean_texts,
    count_error,
    date_errors,
    date_tolerance,
    key_task_error,
    logger,
    online_url_error,
    validate_activity,
    window_notes,
    window_text,
)
from .workflow import (
    REASON_MAX_LENGTH,
    REASON_REQUIRED,
    TRANSITION_ACTIONS,
    TRANSITIONS,
    TransitionNotAllowed,
    activity_data,
    allowed_transitions,
    submit_import_drafts,
    transition,
)

__all__ = [
    "BrandSuggestion",
    "brand_required_error",
    "brands_of",
    "suggest_brand",
    "suggestions",
    "submit_import_drafts",
    "BIT_FIELDS",
    "CAMPAIGN_WIDE_LABEL",
    "EDITABLE_STATUSES",
    "FIELD_LABELS",
    "MULTILINE_FIELDS",
    "POSTER_FORMATS",
    "POSTER_MAX_BYTES",
    "POSTER_MAX_PIXELS",
    "REASON_MAX_LENGTH",
    "REASON_REQUIRED",
    "TEXT_FIELDS",
    "TEXT_LABELS",
    "TEXT_LIMITS",
    "TRANSITIONS",
    "TRANSITION_ACTIONS",
    "TransitionNotAllowed",
    "VALUE_FIELDS",
    "_raise",
    "activities_of",
    "activity_data",
    "allowed_transitions",
    "as_beijing",
    "beijing_day",
    "bit_choices",
    "bits",
    "brand_error",
    "campaign_window_text",
    "check_poster",
    "chinese_date",
    "clean_texts",
    "choices_of",
    "compute_search_text",
    "create_activity",
    "date_errors",
    "date_tolerance",
    "window_notes",
    "key_task_error",
    "labels_of",
    "logger",
    "mask_phone",
    "members",
    "online_url_error",
    "public_activities",
    "refresh_search_text",
    "region_codes",
    "transition",
    "update_activity",
    "validate_activity",
    "COUNT_FIELDS",
    "COUNT_MAX",
    "COUNT_MAX_MESSAGE",
    "COUNT_MIN_MESSAGE",
    "count_error",
    "window_text",
]
