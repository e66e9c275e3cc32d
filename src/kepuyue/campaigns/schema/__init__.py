"""The campaign file (``campaigns/<slug>.yaml``) and its validation: pydantic models of the plan.

:func:`parse_campaign` turns the file's bytes into a :class:`CampaignFile` or raises
:class:`CampaignFileError` whose ``errors`` are lines ``<yaml path>: <reason>``, the path in YAML
terms and the reason in Chinese with the English in parentheses, e.g.
``joint_actions[3].brands[1].targets[0].value: 不是整数 (not an integer)``. A YAML syntax error names
its line and column instead of a path.

Rules checked here (beyond types): every mapping rejects unknown keys (a misspelled key fails);
slugs are unique in their scope (joint actions, deadlines and calls per campaign; key tasks,
brands and targets per joint action); participant and eligible types are declared in
``organization_types``; brand ``key_task``/``parent`` and deadline/call ``joint_action``/``brand``
refer to entries that exist; every period ends on or after it starts and a joint action's window
overlaps the campaign period; a call's ``spec`` is checked against its ``kind``.

The package: :mod:`.fields` (field types and their checks, the error class), :mod:`.plan` (the
campaign, joint actions, review), :mod:`.call_specs` (deadlines, calls and each kind's spec),
:mod:`.measures` (how a target is counted), :mod:`.file` (the whole file and its cross-references), :mod:`.errors` (error lines) and
:mod:`.reading` (YAML in, a checked file out).
Every public name is importable from ``kepuyue.campaigns.schema``.
"""

from .call_specs import (
    BookListCall,
    BookListSpec,
    CallSpec,
    CityWalkCall,
    CityWalkSpec,
    CriterionSpec,
    DeadlineSpec,
    EssayCall,
    EssaySpec,
    LinkCall,
    LinkSpec,
    VideoCall,
    VideoSpec,
    WorkPlanCall,
    WorkPlanSpec,
)
from .errors import error_lines, loc_to_path
from .fields import (
    ISO_DATE_RE,
    PLAN_REF_RE,
    SLUG_PATTERN,
    CampaignFileError,
    Count,
    Email,
    Moment,
    Number,
    PlanDate,
    PlanRef,
    Slug,
    Url,
)
from .file import CampaignFile
from .measures import FIELDS, SOURCES, SPECIAL_AREAS, MeasureFilters, MeasureSpec
from .plan import (
    BrandSpec,
    CampaignSpec,
    ContactSpec,
    GeneralRequirementSpec,
    JointActionSpec,
    KeyTaskSpec,
    PlatformSpec,
    QuotaSpec,
    ReviewSpec,
    TargetSpec,
    ThemeSpec,
    WindowSpec,
)
from .reading import load_yaml, parse_campaign

__all__ = [
    "BookListCall",
    "BookListSpec",
    "BrandSpec",
    "CallSpec",
    "CampaignFile",
    "CampaignFileError",
    "CampaignSpec",
    "CityWalkCall",
    "CityWalkSpec",
    "ContactSpec",
    "Count",
    "CriterionSpec",
    "DeadlineSpec",
    "Email",
    "EssayCall",
    "EssaySpec",
    "GeneralRequirementSpec",
    "ISO_DATE_RE",
    "JointActionSpec",
    "KeyTaskSpec",
    "LinkCall",
    "LinkSpec",
    "MeasureFilters",
    "MeasureSpec",
    "FIELDS",
    "SOURCES",
    "SPECIAL_AREAS",
    "Moment",
    "Number",
    "PLAN_REF_RE",
    "PlanDate",
    "PlanRef",
    "PlatformSpec",
    "QuotaSpec",
    "ReviewSpec",
    "SLUG_PATTERN",
    "Slug",
    "TargetSpec",
    "ThemeSpec",
    "Url",
    "VideoCall",
    "VideoSpec",
    "WindowSpec",
    "WorkPlanCall",
    "WorkPlanSpec",
    "error_lines",
    "load_yaml",
    "loc_to_path",
    "parse_campaign",
]
