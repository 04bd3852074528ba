from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from archives import api as archives_api
from customers import api as customers_api
from customers.care import api as care_api
from fleet import api as fleet_api
from parts import api as parts_api
from sales import api as sales_api
from service import api as service_api

from . import api, health, kpi_api, views

router = DefaultRouter()
router.register("branches", api.BranchViewSet, basename="branch")
router.register("staff", api.StaffViewSet, basename="staff")
router.register("notifications", api.NotificationViewSet, basename="notification")
router.register("kpi-definitions", kpi_api.KpiDefinitionViewSet, basename="kpi-definition")
router.register("kpis", kpi_api.KpiViewSet, basename="kpi")
router.register("customers", customers_api.CustomerViewSet, basename="customer")
router.register("contacts", customers_api.ContactViewSet, basename="contact")
router.register("vehicles", customers_api.VehicleViewSet, basename="vehicle")
router.register(
    "odometer-readings", customers_api.OdometerReadingViewSet, basename="odometer-reading"
)
router.register("leads", sales_api.LeadViewSet, basename="lead")
router.register("activities", sales_api.ActivityViewSet, basename="activity")
router.register("showroom-traffic", sales_api.ShowroomTrafficViewSet, basename="showroom-traffic")
router.register("test-drives", sales_api.TestDriveViewSet, basename="test-drive")
router.register("trade-ins", sales_api.TradeInViewSet, basename="trade-in")
router.register("quotes", sales_api.QuoteViewSet, basename="quote")
router.register("orders", sales_api.OrderViewSet, basename="order")
router.register("payments", sales_api.PaymentViewSet, basename="payment")
router.register("stock-vehicles", sales_api.StockVehicleViewSet, basename="stock-vehicle")
router.register("deliveries", sales_api.DeliveryViewSet, basename="delivery")
router.register("parts", parts_api.PartViewSet, basename="part")
router.register("suppliers", parts_api.SupplierViewSet, basename="supplier")
router.register("bins", parts_api.BinViewSet, basename="bin")
router.register("stock", parts_api.PartStockViewSet, basename="part-stock")
router.register("stock-moves", parts_api.StockMoveViewSet, basename="stock-move")
router.register("purchase-orders", parts_api.PurchaseOrderViewSet, basename="purchase-order")
router.register("receipts", parts_api.ReceiptViewSet, basename="receipt")
router.register("part-issues", parts_api.PartIssueViewSet, basename="part-issue")
router.register("lost-sales", parts_api.LostSaleViewSet, basename="lost-sale")
router.register("stocktakes", parts_api.StocktakeViewSet, basename="stocktake")
router.register(
    "reorder-suggestions", parts_api.ReorderSuggestionViewSet, basename="reorder-suggestion"
)
router.register("emergency-orders", parts_api.EmergencyOrderViewSet, basename="emergency-order")
router.register("service-slots", service_api.ServiceSlotViewSet, basename="service-slot")
router.register("appointments", service_api.AppointmentViewSet, basename="appointment")
router.register("work-orders", service_api.WorkOrderViewSet, basename="work-order")
router.register("labour-lines", service_api.LabourLineViewSet, basename="labour-line")
router.register("parts-lines", service_api.PartLineViewSet, basename="parts-line")
router.register("added-items", service_api.AddedItemViewSet, basename="added-item")
router.register("recommendations", service_api.RecommendationViewSet, basename="recommendation")
router.register("checklist-items", service_api.ChecklistItemViewSet, basename="checklist-item")
router.register("settlements", service_api.SettlementViewSet, basename="settlement")
router.register("warranty-claims", service_api.WarrantyClaimViewSet, basename="warranty-claim")
router.register("insurance-claims", service_api.InsuranceClaimViewSet, basename="insurance-claim")
router.register("rescues", service_api.RescueViewSet, basename="rescue")
router.register("fleet-accounts", fleet_api.FleetAccountViewSet, basename="fleet-account")
router.register("fleet-deals", fleet_api.FleetDealViewSet, basename="fleet-deal")
router.register("fleet-orders", fleet_api.FleetOrderViewSet, basename="fleet-order")
router.register("fleet-agreements", fleet_api.FleetAgreementViewSet, basename="fleet-agreement")
router.register("discount-requests", fleet_api.DiscountRequestViewSet, basename="discount-request")
router.register(
    "special-configuration-requests",
    fleet_api.SpecialConfigurationRequestViewSet,
    basename="special-configuration-request",
)
router.register("vehicle-files", archives_api.VehicleFileViewSet, basename="vehicle-file")
router.register("file-sections", archives_api.FileSectionViewSet, basename="file-section")
router.register(
    "archive-documents", archives_api.ArchiveDocumentViewSet, basename="archive-document"
)
router.register("archive-batches", archives_api.SubmissionBatchViewSet, basename="archive-batch")
router.register("nonconformities", archives_api.NonconformityViewSet, basename="nonconformity")
router.register("penalty-points", archives_api.PenaltyPointViewSet, basename="penalty-point")
router.register(
    "missing-archive-reports",
    archives_api.MissingArchiveReportViewSet,
    basename="missing-archive-report",
)
router.register("exemptions", archives_api.ExemptionViewSet, basename="exemption")
router.register(
    "archive-reconciliations",
    archives_api.ReconciliationViewSet,
    basename="archive-reconciliation",
)
router.register("follow-up-calls", care_api.FollowUpCallViewSet, basename="follow-up-call")
router.register("complaints", care_api.ComplaintViewSet, basename="complaint")
router.register("inquiries", care_api.InquiryViewSet, basename="inquiry")
router.register("customer-segments", care_api.CustomerSegmentViewSet, basename="customer-segment")
router.register("job-runs", care_api.JobRunViewSet, basename="job-run")
router.register(
    "satisfaction-models", care_api.SatisfactionModelViewSet, basename="satisfaction-model"
)
router.register("survey-answers", care_api.SurveyAnswerViewSet, basename="survey-answer")
router.register("reminders", care_api.ReminderViewSet, basename="reminder")
router.register("messages", care_api.MessageViewSet, basename="message")
router.register("campaigns", care_api.CampaignViewSet, basename="campaign")
router.register("offers", care_api.OfferViewSet, basename="offer")
router.register("loyalty-accounts", care_api.LoyaltyAccountViewSet, basename="loyalty-account")
router.register("loyalty-rules", care_api.LoyaltyRuleViewSet, basename="loyalty-rule")

api_v1 = [
    path("auth/token/", api.AuthTokenView.as_view(), name="auth-token"),
    path("me/", api.MeView.as_view(), name="me"),
    path("funnel/", sales_api.FunnelView.as_view(), name="funnel"),
    path("parts-figures/", parts_api.PartsFiguresView.as_view(), name="parts-figures"),
    path("service-figures/", service_api.ServiceFiguresView.as_view(), name="service-figures"),
    path("fleet-figures/", fleet_api.FleetFiguresView.as_view(), name="fleet-figures"),
    path("archive-figures/", archives_api.ArchiveFiguresView.as_view(), name="archive-figures"),
    path("retention/", archives_api.RetentionView.as_view(), name="retention"),
    path("care-report/", care_api.CareReportView.as_view(), name="care-report"),
    path(
        "satisfaction-index/",
        care_api.SatisfactionIndexView.as_view(),
        name="satisfaction-index",
    ),
    path("technician-board/", service_api.TechnicianBoardView.as_view(), name="technician-board"),
    *router.urls,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("branch/", views.branch_switch, name="branch-switch"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("figures/", views.figures_dashboard, name="figures"),
    path("figures/definitions/", views.kpi_definitions, name="kpi-definitions"),
    path("figures/targets/", views.figures_targets, name="figures-targets"),
    path(
        "figures/targets/<int:pk>/delete/",
        views.figures_target_delete,
        name="figures-target-delete",
    ),
    path("figures/monthly/", views.figures_monthly, name="figures-monthly"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("customers.urls")),
    path("sales/", include("sales.urls")),
    path("parts/", include("parts.urls")),
    path("service/", include("service.urls")),
    path("fleet/", include("fleet.urls")),
    path("archives/", include("archives.urls")),
    path("care/", include("customers.care.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
