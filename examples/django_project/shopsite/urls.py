"""URLs of the example shop."""

from __future__ import annotations

from django.urls import path
from shop import views

urlpatterns = [
    path("orders/<int:pk>/", views.detail),
    path("orders/<int:pk>/pay/", views.pay),
    path("boom/", views.boom),
]
