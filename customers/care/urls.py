from django.urls import path

from .views import calls, campaigns, complaints, loyalty, overview, reminders, satisfaction

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
    # Campaigns (关怀活动): the segment's count previewed, launched, the offers and their
    # redemption signed off; the success per segment
    path("campaigns/", campaigns.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign-create"),
    path("campaigns/preview/", campaigns.campaign_preview, name="campaign-preview"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_update, name="campaign-update"),
    path("campaigns/<int:pk>/<slug:action>/", campaigns.campaign_action, name="campaign-action"),
    path("offers/<int:pk>/<slug:action>/", campaigns.offer_action, name="offer-action"),
    # Loyalty points: the accounts, a customer's statement and redemption, the branch's rules
    path("loyalty/", loyalty.account_list, name="loyalty-list"),
    path("loyalty/rules/", loyalty.rule_page, name="loyalty-rules"),
    path("loyalty/<int:customer_pk>/", loyalty.statement, name="loyalty-statement"),
]
