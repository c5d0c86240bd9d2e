"""URL routes for cohort discovery (added to ``urls.urlpatterns``)."""

from django.urls import path

from fedsafe.coordinator import cohort_api, cohort_views

__all__ = ["cohort_urlpatterns"]

cohort_urlpatterns = [
    path("api/agent/v1/cohort/", cohort_api.cohort_agent_api.urls),
    path("api/cohort/v1/queries", cohort_api.submit, name="cohort_submit"),
    path("api/cohort/v1/queries/<int:pk>", cohort_api.detail, name="cohort_detail"),
    path("cohort/", cohort_views.builder, name="cohort_builder"),
]
