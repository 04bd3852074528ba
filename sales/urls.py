from django.urls import path

from .views import enquiry, funnel, leads, orders, quotes, showroom, stock

app_name = "sales"

urlpatterns = [
    # Leads and their follow-up
    path("leads/", leads.lead_list, name="lead-list"),
    path("leads/today/", leads.follow_up_today, name="today"),
    path("leads/new/", leads.lead_create, name="lead-create"),
    path("leads/<int:pk>/", leads.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/edit/", leads.lead_edit, name="lead-edit"),
    path("leads/<int:pk>/verify/", leads.lead_verify, name="lead-verify"),
    path("leads/<int:pk>/assign/", leads.lead_assign, name="lead-assign"),
    path("leads/<int:pk>/activities/new/", leads.activity_create, name="activity-create"),
    path("leads/<int:pk>/lose/", leads.lead_lose, name="lead-lose"),
    path("leads/<int:pk>/invalidate/", leads.lead_invalidate, name="lead-invalidate"),
    path("leads/<int:pk>/customer/", leads.lead_link_customer, name="lead-link-customer"),
    path("leads/<int:pk>/trade-ins/new/", leads.trade_in_create, name="trade-in-create"),
    path("trade-ins/<int:pk>/decide/", leads.trade_in_decide, name="trade-in-decide"),
    # Showroom: front-desk traffic and test drives
    path("showroom/traffic/", showroom.traffic, name="traffic"),
    path("showroom/traffic/count/", showroom.traffic_count, name="traffic-count"),
    path("leads/<int:pk>/test-drives/new/", showroom.test_drive_create, name="test-drive-create"),
    path("test-drives/", showroom.test_drive_list, name="test-drive-list"),
    path("test-drives/<int:pk>/", showroom.test_drive_detail, name="test-drive-detail"),
    path(
        "test-drives/<int:pk>/complete/", showroom.test_drive_complete, name="test-drive-complete"
    ),
    path("test-drives/<int:pk>/cancel/", showroom.test_drive_cancel, name="test-drive-cancel"),
    # Quotes and their approval
    path("leads/<int:pk>/quotes/new/", quotes.quote_create, name="quote-create"),
    path("quotes/", quotes.quote_list, name="quote-list"),
    path("quotes/<int:pk>/", quotes.quote_detail, name="quote-detail"),
    path("quotes/<int:pk>/edit/", quotes.quote_edit, name="quote-edit"),
    path("quotes/<int:pk>/print/", quotes.quote_print, name="quote-print"),
    path("quotes/<int:pk>/submit/", quotes.quote_submit, name="quote-submit"),
    path("quotes/<int:pk>/approve/", quotes.quote_approve, name="quote-approve"),
    path("quotes/<int:pk>/reject/", quotes.quote_reject, name="quote-reject"),
    path("quotes/<int:pk>/send/", quotes.quote_send, name="quote-send"),
    # Orders, payments and delivery
    path("quotes/<int:pk>/order/", orders.order_create, name="order-create"),
    path("orders/", orders.order_list, name="order-list"),
    path("orders/<int:pk>/", orders.order_detail, name="order-detail"),
    path("orders/<int:pk>/sign/", orders.order_sign, name="order-sign"),
    path("orders/<int:pk>/payments/new/", orders.payment_create, name="payment-create"),
    path("payments/<int:pk>/receive/", orders.payment_receive, name="payment-receive"),
    path("orders/<int:pk>/allocate/", orders.order_allocate, name="order-allocate"),
    path("orders/<int:pk>/invoice/", orders.order_invoice, name="order-invoice"),
    path("orders/<int:pk>/cancel/", orders.order_cancel, name="order-cancel"),
    path("orders/<int:pk>/deliver/", orders.delivery_create, name="delivery-create"),
    # Vehicle stock
    path("stock/", stock.stock_list, name="stock-list"),
    path("stock/new/", stock.stock_create, name="stock-create"),
    path("stock/<int:pk>/", stock.stock_detail, name="stock-detail"),
    path("stock/<int:pk>/edit/", stock.stock_edit, name="stock-edit"),
    path("stock/<int:pk>/arrive/", stock.stock_arrive, name="stock-arrive"),
    path("stock/<int:pk>/pdi/", stock.stock_pdi, name="stock-pdi"),
    path("stock/<int:pk>/demo/", stock.stock_demo, name="stock-demo"),
    # The public enquiry form of a branch's website
    path("enquiry/<slug:code>/", enquiry.enquiry, name="enquiry"),
    # Figures
    path("funnel/", funnel.funnel_figures_page, name="funnel"),
]
