"""The coverage heatmap, drawn every day after Tardis' export and the runs it triggers."""

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

coverage_heatmap_job = define_asset_job(
    "coverage_heatmap_job", selection=AssetSelection.assets("coverage_heatmap")
)

# After Tardis' daily export (around 06:00 UTC) and the runs it triggers.
coverage_heatmap_schedule = ScheduleDefinition(
    job=coverage_heatmap_job,
    cron_schedule="0 9 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
)
