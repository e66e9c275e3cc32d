from django.urls import path

from . import views, views_org

app_name = "specials"

urlpatterns = [
    path("films/", views.film_tour, name="films"),
    path("films/<int:pk>/", views.film_detail, name="film"),
    path("plays/", views.plays, name="plays"),
    path("volunteers/", views.volunteers_public, name="volunteers"),
    path("units/<int:pk>/", views.unit_page, name="unit"),
    path("lectures/<slug:campaign>/<slug:joint_action>/", views.replay_archive, name="replays"),
    path("org/programmes/films/", views_org.films, name="org_films"),
    path("org/programmes/screenings/", views_org.screenings, name="org_screenings"),
    path(
        "org/programmes/screenings/<int:pk>/delete/", views_org.screening_delete, name="org_screening_delete"
    ),
    path("org/programmes/plays/", views_org.plays, name="org_plays"),
    path("org/programmes/volunteers/", views_org.volunteers, name="org_volunteers"),
    path(
        "org/programmes/volunteers/<int:pk>/delete/", views_org.volunteer_delete, name="org_volunteer_delete"
    ),
    path("org/programmes/lectures/<int:pk>/", views_org.lecture_links, name="org_lecture"),
]
