from django.urls import path

from .views import appointments, claims, figures, rescues, work_order_detail, work_orders

app_name = "service"

urlpatterns = [
    # The front desk: slots and appointments
    path("appointments/", appointments.appointment_day, name="appointment-day"),
    path("appointments/new/", appointments.appointment_create, name="appointment-create"),
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment-detail"),
    path(
        "appointments/<int:pk>/<slug:step>/",
        appointments.appointment_step,
        name="appointment-step",
    ),
    path("slots/new/", appointments.slots_open, name="slots-open"),
    # Work orders: check-in, list, the workshop board
    path("work-orders/", work_orders.work_order_list, name="work-order-list"),
    path("work-orders/new/", work_orders.work_order_create, name="work-order-create"),
    path("board/", work_orders.technician_board, name="board"),
    # One work order: its lines, sign-offs, settlement and printouts
    path("work-orders/<int:pk>/", work_order_detail.work_order_detail, name="work-order-detail"),
    path(
        "work-orders/<int:pk>/print/", work_order_detail.work_order_print, name="work-order-print"
    ),
    path(
        "work-orders/<int:pk>/<slug:action>/",
        work_order_detail.work_order_action,
        name="work-order-action",
    ),
    path(
        "labour-lines/<int:pk>/<slug:action>/",
        work_order_detail.labour_line_action,
        name="labour-line-action",
    ),
    path(
        "part-lines/<int:pk>/remove/", work_order_detail.part_line_remove, name="part-line-remove"
    ),
    path(
        "added-items/<int:pk>/confirm/",
        work_order_detail.added_item_confirm,
        name="added-item-confirm",
    ),
    path(
        "recommendations/<int:pk>/decide/",
        work_order_detail.recommendation_decide,
        name="recommendation-decide",
    ),
    path(
        "checklist-items/<int:pk>/mark/",
        work_order_detail.checklist_item_mark,
        name="checklist-item-mark",
    ),
    path(
        "settlements/<int:pk>/print/", work_order_detail.settlement_print, name="settlement-print"
    ),
    # Claims
    path("warranty-claims/", claims.warranty_claim_list, name="warranty-claim-list"),
    path(
        "work-orders/<int:pk>/warranty-claims/new/",
        claims.warranty_claim_create,
        name="warranty-claim-create",
    ),
    path("warranty-claims/<int:pk>/", claims.warranty_claim_detail, name="warranty-claim-detail"),
    path(
        "warranty-claims/<int:pk>/<slug:step>/",
        claims.warranty_claim_step,
        name="warranty-claim-step",
    ),
    path("insurance-claims/", claims.insurance_claim_list, name="insurance-claim-list"),
    path(
        "work-orders/<int:pk>/insurance-claim/new/",
        claims.insurance_claim_create,
        name="insurance-claim-create",
    ),
    path(
        "insurance-claims/<int:pk>/",
        claims.insurance_claim_detail,
        name="insurance-claim-detail",
    ),
    path(
        "insurance-claims/<int:pk>/<slug:step>/",
        claims.insurance_claim_step,
        name="insurance-claim-step",
    ),
    # Roadside rescue
    path("rescues/", rescues.rescue_list, name="rescue-list"),
    path("rescues/new/", rescues.rescue_create, name="rescue-create"),
    path("rescues/<int:pk>/", rescues.rescue_detail, name="rescue-detail"),
    path("rescues/<int:pk>/<slug:step>/", rescues.rescue_step, name="rescue-step"),
    # Figures
    path("figures/", figures.service_figures_page, name="figures"),
]
