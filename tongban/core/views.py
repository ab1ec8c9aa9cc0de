from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Ready when the database answers and is migrated; load balancers and `tongban demo` poll it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM django_migrations LIMIT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse({"status": "unavailable", "reason": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok"})
