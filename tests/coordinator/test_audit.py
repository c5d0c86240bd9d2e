import pytest
from django.db import DatabaseError, connection, transaction

from fedsafe.coordinator import audit
from fedsafe.coordinator.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


def test_audit_events_cannot_be_changed_or_deleted_through_django():
    event = audit.record("system", "test", "x:1", n=1)
    event.kind = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(kind="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).kind == "test"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE coordinator_auditevent SET kind = 'changed'",
        "DELETE FROM coordinator_auditevent",
    ],
)
def test_the_database_refuses_to_change_audit_events_behind_djangos_back(sql):
    audit.record("system", "test")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert list(AuditEvent.objects.values_list("kind", flat=True)) == ["test"]
