"""URLs of the test site."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from shop import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("boom/", views.boom),
    path("odd/", views.odd),
    path("orders/<int:pk>/pay/", views.pay),
    path("orders/<int:pk>/cancel-and-fail/", views.cancel_and_fail),
    path("orders/<int:pk>/logs/", views.logs),
]
