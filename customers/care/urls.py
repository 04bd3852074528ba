from django.urls import path

from .views import calls, complaints, overview, reminders, satisfaction

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
    # Reminders and the log of every message sent or withheld
    path("reminders/", reminders.reminder_list, name="reminder-list"),
    path("messages/", reminders.message_list, name="message-list"),
    # The satisfaction index (层次分析法): the models, their comparisons, the index, the surveys
    path("satisfaction/", satisfaction.satisfaction_home, name="satisfaction"),
    path("satisfaction/new/", satisfaction.model_create, name="satisfaction-create"),
    path("satisfaction/index/", satisfaction.index_page, name="satisfaction-index"),
    path("satisfaction/answers/", satisfaction.answer_list, name="satisfaction-answers"),
    path("satisfaction/<int:pk>/", satisfaction.model_detail, name="satisfaction-model"),
    path(
        "satisfaction/<int:pk>/criteria/",
        satisfaction.criterion_add,
        name="satisfaction-criterion-add",
    ),
    path("satisfaction/<int:pk>/matrix/", satisfaction.matrix_set, name="satisfaction-matrix"),
    path(
        "satisfaction/<int:pk>/activate/",
        satisfaction.model_activate,
        name="satisfaction-activate",
    ),
    path("calls/<int:pk>/survey/", satisfaction.call_survey, name="call-survey"),
]
