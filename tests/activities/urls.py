"""URL map for the activities tests: the root map plus the staff pages as it will include them."""

from django.urls import include, path

from kepuyue.urls import urlpatterns as root

urlpatterns = [path("org/activities/", include("kepuyue.activities.urls")), *root]
