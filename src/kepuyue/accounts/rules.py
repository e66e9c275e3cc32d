"""Permissions on applications to join (单位入驻申请), as ``rules`` predicates beside the roles' ones.

``accounts.review_application``  pending, in the administrator's scope (``services.applications_in_scope``)
``accounts.view_application``    the applicant's own, or in the administrator's scope
"""

import rules

from . import services
from .models import ApplicationStatus


@rules.predicate
def in_application_scope(user, application) -> bool:
    return services.in_application_scope(user, application)


@rules.predicate
def is_applicant(user, application) -> bool:
    return application is not None and user.is_authenticated and application.applicant_id == user.pk


@rules.predicate
def is_pending(user, application) -> bool:
    return application is not None and application.status == ApplicationStatus.PENDING


rules.add_perm("accounts.review_application", is_pending & in_application_scope)
rules.add_perm("accounts.view_application", is_applicant | in_application_scope)
