"""Events of review 审核推荐事件 (see ``kepuyue.common.events`` for the two phases).

Sent with ``sender=Activity`` and the payload of ``kepuyue.activities.signals.activity_keys``
(``activity``, ``activity_id``, ``campaign_id``, ``joint_action_id``, ``brand_id``, ``organizer_id``,
``province_code``, ``prefecture_code``, ``county_code``), plus ``actor`` (``None`` when the system
acts, e.g. a withdrawal releasing its recommendation). All are sent **after commit**.

========================== ===============================================================
event                      extra payload
========================== ===============================================================
``activity_recommended``   ``scope`` (quota key ``region:<code>`` / ``org:<id>``), ``note``
``activity_unrecommended`` ``scope``, ``why`` (``"withdrawn_by_admin"`` or ``"activity_withdrawn"``)
``activity_featured``      —
``activity_unfeatured``    ``why`` (``"unfeatured"`` or ``"activity_withdrawn"``)
========================== ===============================================================

Subscribers are listed in ``docs/architecture.md``.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A platform administrator recommended a published activity (推荐), using a quota place.
activity_recommended = Signal()
#: A recommendation was withdrawn (撤销推荐) or released because the activity was withdrawn.
activity_unrecommended = Signal()
#: The joint action's managing unit (or CAST) featured a recommended activity (重点呈现).
activity_featured = Signal()
#: Featuring ended (取消重点呈现), or the featured activity was withdrawn.
activity_unfeatured = Signal()
