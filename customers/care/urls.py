from django.urls import path

from .views import calls, complaints, overview

app_name = "care"

urlpatterns = [
    # The call centre: today's queue, the calls and each attempt
    path("", calls.call_centre, name="call-centre"),
    path("calls/", calls.call_list, name="call-list"),
    path("calls/<int:pk>/", calls.call_detail, name="call-detail"),
    path("calls/<int:pk>/attempt/", calls.call_attempt, name="call-attempt"),
    path("calls/<int:pk>/reassign/", calls.call_reassign, name="call-reassign"),
    # Complaints, inquiries and suggestions
    path("complaints/", complaints.complaint_list, name="complaint-list"),
    path("complaints/new/", complaints.complaint_create, name="complaint-create"),
    path("complaints/<int:pk>/", complaints.complaint_detail, name="complaint-detail"),
    path(
        "complaints/<int:pk>/<slug:action>/", complaints.complaint_action, name="complaint-action"
    ),
    path("inquiries/", complaints.inquiry_list, name="inquiry-list"),
    path("inquiries/new/", complaints.inquiry_create, name="inquiry-create"),
    path("inquiries/<int:pk>/answer/", complaints.inquiry_answer, name="inquiry-answer"),
    # Segments, the after-sales report and the scheduled jobs' runs
    path("segments/", overview.segments_page, name="segments"),
    path("segments/recompute/", overview.segments_recompute, name="segments-recompute"),
    path("report/", overview.after_sales_report_page, name="report"),
    path("operations/", overview.operations_page, name="operations"),
]
