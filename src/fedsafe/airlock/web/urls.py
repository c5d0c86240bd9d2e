"""The airlock's pages."""

from django.urls import path

from fedsafe.airlock.web import views

urlpatterns = [
    path("", views.index, name="index"),
    path("login", views.login, name="login"),
    path("logout", views.logout, name="logout"),
    path("workspaces/<str:workspace>/", views.workspace, name="workspace"),
    path("workspaces/<str:workspace>/view/<path:path>", views.view_file, name="view"),
    path("workspaces/<str:workspace>/raw/<path:path>", views.raw_file, name="raw"),
    path("requests/<str:request_id>/", views.request_page, name="request"),
    path("requests/<str:request_id>/<str:action>", views.request_action, name="action"),
]
