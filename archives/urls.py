from django.urls import path

from .views import batches, files, oversight

app_name = "archives"

urlpatterns = [
    # The archivist's work queue, the files, their documents and audit
    path("", files.work_queue_page, name="queue"),
    path("files/", files.file_list, name="file-list"),
    path("files/<int:pk>/", files.file_detail, name="file-detail"),
    path("sections/<int:pk>/upload/", files.document_upload, name="document-upload"),
    path("sections/<int:pk>/check/", files.section_check, name="section-check"),
    path("sections/<int:pk>/exempt/", files.section_exempt, name="section-exempt"),
    path("documents/", files.document_list, name="document-list"),
    path("documents/<int:pk>/download/", files.document_download, name="document-download"),
    path("documents/<int:pk>/audit/", files.document_audit, name="document-audit"),
    # Submission batches and their handover forms
    path("batches/", batches.batch_list, name="batch-list"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/print/", batches.batch_print, name="batch-print"),
    path("batches/<int:pk>/receive/", batches.batch_receive, name="batch-receive"),
    # Oversight: nonconformities and points, missing reports, reconciliation, retention, figures
    path("nonconformities/", oversight.nonconformity_list, name="nonconformity-list"),
    path("points/", oversight.points_page, name="points"),
    path("missing/", oversight.missing_list, name="missing-list"),
    path("missing/<int:pk>/", oversight.missing_detail, name="missing-detail"),
    path("reconciliations/", oversight.reconciliation_list, name="reconciliation-list"),
    path("reconciliations/run/", oversight.reconciliation_run, name="reconciliation-run"),
    path("retention/", oversight.retention_page, name="retention"),
    path("files/<int:pk>/disposal/<slug:action>/", oversight.disposal_action, name="disposal"),
    path("figures/", oversight.figures_page, name="figures"),
]
