"""Pages of registrations: the public's (:mod:`.public`), the unit's (:mod:`.staff`) and the door's
(:mod:`.checkin`). Thin: every rule is in :mod:`kepuyue.registrations.services`."""
