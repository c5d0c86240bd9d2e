"""URL routes: web pages, the public log and the agent API."""

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from fedsafe.coordinator import crate_views, tes, views
from fedsafe.coordinator.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="coordinator/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("workspaces/<str:name>/", views.workspace, name="workspace"),
    path("jobs/", views.jobs_log, name="jobs_log"),
    path("jobs/<int:pk>/", views.request_detail, name="request"),
    path("jobs/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("api/agent/v1/", api.urls),
    path("jobs/<int:pk>/crate.zip", crate_views.download, name="crate"),
    path("api/crates/v1/requests", crate_views.submit, name="crate_submit"),
    path("ga4gh/tes/v1/service-info", tes.service_info),
    path("ga4gh/tes/v1/tasks", tes.tasks),
    re_path(r"^ga4gh/tes/v1/tasks/(?P<task_id>[^/:]+):cancel$", tes.cancel),
    re_path(r"^ga4gh/tes/v1/tasks/(?P<task_id>[^/:]+)$", tes.task),
]

# Releases, results and dashboards (fedsafe.coordinator.release_urls).
from fedsafe.coordinator.release_urls import release_urlpatterns  # noqa: E402

urlpatterns += release_urlpatterns

# Cohort discovery (fedsafe.coordinator.cohort_urls).
from fedsafe.coordinator.cohort_urls import cohort_urlpatterns  # noqa: E402

urlpatterns += cohort_urlpatterns
