from django.urls import path

from .views import catalogue, figures, issuing, ordering, receiving, stock, stocktake

app_name = "parts"

urlpatterns = [
    # Catalogue and suppliers
    path("", catalogue.part_list, name="part-list"),
    path("new/", catalogue.part_create, name="part-create"),
    path("<int:pk>/", catalogue.part_detail, name="part-detail"),
    path("<int:pk>/edit/", catalogue.part_edit, name="part-edit"),
    path("<int:pk>/supersede/", catalogue.part_supersede, name="part-supersede"),
    path("<int:pk>/stock/", catalogue.part_stock_open, name="part-stock-open"),
    path("suppliers/", catalogue.supplier_list, name="supplier-list"),
    path("suppliers/new/", catalogue.supplier_create, name="supplier-create"),
    path("suppliers/<int:pk>/edit/", catalogue.supplier_edit, name="supplier-edit"),
    # Stock, bins and the ledger
    path("stock/", stock.stock_list, name="stock-list"),
    path("stock/<int:pk>/", stock.stock_detail, name="stock-detail"),
    path("stock/<int:pk>/levels/", stock.stock_levels, name="stock-levels"),
    path("stock/<int:pk>/bin/", stock.stock_bin, name="stock-bin"),
    path("bins/", stock.bin_map, name="bin-map"),
    path("bins/new/", stock.bin_create, name="bin-create"),
    path("moves/", stock.move_list, name="move-list"),
    # Purchase orders and receiving
    path("purchase-orders/", receiving.purchase_order_list, name="purchase-order-list"),
    path("purchase-orders/new/", receiving.purchase_order_create, name="purchase-order-create"),
    path(
        "purchase-orders/<int:pk>/", receiving.purchase_order_detail, name="purchase-order-detail"
    ),
    path(
        "purchase-orders/<int:pk>/place/",
        receiving.purchase_order_place,
        name="purchase-order-place",
    ),
    path(
        "purchase-orders/<int:pk>/cancel/",
        receiving.purchase_order_cancel,
        name="purchase-order-cancel",
    ),
    path(
        "purchase-orders/<int:pk>/close/",
        receiving.purchase_order_close,
        name="purchase-order-close",
    ),
    path("purchase-orders/<int:pk>/receive/", receiving.receipt_create, name="receipt-create"),
    path("receipts/", receiving.receipt_list, name="receipt-list"),
    path("receipts/<int:pk>/", receiving.receipt_detail, name="receipt-detail"),
    path("receipts/<int:pk>/register/", receiving.receipt_register, name="receipt-register"),
    path("receipts/<int:pk>/print/", receiving.receipt_print, name="receipt-print"),
    # Issue vouchers, returns and lost sales
    path("issues/", issuing.issue_list, name="issue-list"),
    path("issues/new/", issuing.issue_create, name="issue-create"),
    path("issues/<int:pk>/", issuing.issue_detail, name="issue-detail"),
    path("issues/<int:pk>/advance/", issuing.issue_advance, name="issue-advance"),
    path("issues/<int:pk>/cancel/", issuing.issue_cancel, name="issue-cancel"),
    path("issues/<int:pk>/print/", issuing.issue_print, name="issue-print"),
    path("issue-lines/<int:pk>/return/", issuing.issue_return, name="issue-return"),
    path("lost-sales/", issuing.lost_sale_list, name="lost-sale-list"),
    path("lost-sales/new/", issuing.lost_sale_create, name="lost-sale-create"),
    # Stocktake
    path("stocktakes/", stocktake.stocktake_list, name="stocktake-list"),
    path("stocktakes/new/", stocktake.stocktake_create, name="stocktake-create"),
    path("stocktakes/<int:pk>/", stocktake.stocktake_detail, name="stocktake-detail"),
    path("stocktakes/<int:pk>/count/", stocktake.stocktake_count, name="stocktake-count"),
    path("stocktakes/<int:pk>/approve/", stocktake.stocktake_approve, name="stocktake-approve"),
    path("stocktakes/<int:pk>/cancel/", stocktake.stocktake_cancel, name="stocktake-cancel"),
    # Reorder suggestions and emergency orders for customers
    path("reorder/", ordering.suggestion_list, name="suggestion-list"),
    path("reorder/compute/", ordering.suggestion_compute, name="suggestion-compute"),
    path("reorder/order/", ordering.suggestion_order, name="suggestion-order"),
    path("reorder/<int:pk>/dismiss/", ordering.suggestion_dismiss, name="suggestion-dismiss"),
    path("emergency-orders/", ordering.emergency_order_list, name="emergency-order-list"),
    path("emergency-orders/new/", ordering.emergency_order_create, name="emergency-order-create"),
    path(
        "emergency-orders/<int:pk>/",
        ordering.emergency_order_detail,
        name="emergency-order-detail",
    ),
    path(
        "emergency-orders/<int:pk>/<slug:step>/",
        ordering.emergency_order_step,
        name="emergency-order-step",
    ),
    # Figures
    path("figures/", figures.parts_figures_page, name="figures"),
]
