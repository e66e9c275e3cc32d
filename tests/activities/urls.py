"""URL map for the activities tests: the staff pages as the root URL map will include them."""

from django.urls import include, path

urlpatterns = [path("org/activities/", include("kepuyue.activities.urls"))]
