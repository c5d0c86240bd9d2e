"""URL routes for releases, results and dashboards (added to ``urls.urlpatterns``)."""

from django.urls import path

from fedsafe.coordinator import release_views as views
from fedsafe.coordinator.release_api import releases_api

__all__ = ["release_urlpatterns"]

release_urlpatterns = [
    path("api/v1/releases/", releases_api.urls),
    path("workspaces/<str:name>/results/", views.results, name="results"),
    path("workspaces/<str:name>/results/combine/", views.combine_again, name="combine_again"),
    path("workspaces/<str:name>/released/<int:pk>/", views.released_file, name="released_file"),
    path("workspaces/<str:name>/released/<int:pk>/raw", views.released_raw, name="released_raw"),
    path("workspaces/<str:name>/combined/<int:pk>/raw", views.combined_raw, name="combined_raw"),
    path("workspaces/<str:name>/dashboard/", views.publish_dashboard, name="publish_dashboard"),
    path("dashboards/<str:name>/", views.dashboard, name="dashboard"),
    path("dashboards/<str:name>/files/<int:pk>", views.dashboard_file, name="dashboard_file"),
]
