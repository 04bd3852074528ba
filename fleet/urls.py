from django.urls import path

from .views import accounts, deals

app_name = "fleet"

urlpatterns = [
    # Accounts: registration, protection, progress, buying centre, agreements and tiers
    path("accounts/", accounts.account_list, name="account-list"),
    path("accounts/new/", accounts.account_register, name="account-register"),
    path("accounts/<int:pk>/", accounts.account_detail, name="account-detail"),
    path("accounts/<int:pk>/<slug:action>/", accounts.account_action, name="account-action"),
    path("agreements/<int:pk>/", accounts.agreement_detail, name="agreement-detail"),
    # Deals: lines, batches, requests, settlement
    path("deals/", deals.deal_list, name="deal-list"),
    path("deals/new/", deals.deal_create, name="deal-create"),
    path("deals/<int:pk>/", deals.deal_detail, name="deal-detail"),
    path("deals/<int:pk>/statement/", deals.settlement_statement, name="settlement-statement"),
    path("deals/<int:pk>/<slug:action>/", deals.deal_action, name="deal-action"),
    path("orders/<int:pk>/<slug:action>/", deals.order_action, name="order-action"),
    path("requests/", deals.request_list, name="request-list"),
    path("requests/<slug:kind>/<int:pk>/decide/", deals.request_decide, name="request-decide"),
    path("figures/", deals.fleet_figures_page, name="figures"),
]
