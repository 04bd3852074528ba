from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("customers/", views.customer_list, name="list"),
    path("customers/incomplete/", views.customer_incomplete, name="incomplete"),
    path("customers/new/", views.customer_create, name="create"),
    path("customers/import/", views.customer_import, name="import"),
    path("customers/export.<str:file_format>", views.customer_export, name="export"),
    path("customers/<int:pk>/", views.customer_detail, name="detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="edit"),
    path("customers/<int:pk>/delete/", views.customer_delete, name="delete"),
    path("customers/<int:pk>/merge/", views.customer_merge, name="merge"),
    path("customers/<int:pk>/contacts/new/", views.contact_create, name="contact-create"),
    path("customers/<int:pk>/vehicles/new/", views.vehicle_create, name="vehicle-create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("vehicles/", views.vehicle_list, name="vehicle-list"),
    path("vehicles/decode-vin/", views.vin_decode, name="vin-decode"),
    path("vehicles/<int:pk>/", views.vehicle_detail, name="vehicle-detail"),
    path("vehicles/<int:pk>/edit/", views.vehicle_edit, name="vehicle-edit"),
    path("vehicles/<int:pk>/transfer/", views.vehicle_transfer, name="vehicle-transfer"),
    path("vehicles/<int:pk>/odometer/", views.odometer_create, name="odometer-create"),
]
