//! The daily overdue job: sent invoices past their due date become overdue, with a branded
//! reminder to the company's billing contacts when the tenant asks for one. A watch on every
//! node enqueues the job every hour (and at start); running it twice changes nothing, because
//! only the transaction that flips an invoice emails about it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::jobs::{Job, JobError, JobKind};
use crate::state::AppState;
use crate::tenancy::OrgType;

/// Payload of the `invoices.overdue` job.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OverdueJob {
    /// The day compared with due dates (`YYYY-MM-DD`); each tenant's own today when absent.
    #[serde(default)]
    pub today: Option<String>,
}

impl JobKind for OverdueJob {
    const KIND: &'static str = "invoices.overdue";

    async fn run(self, app: &AppState, _job: &Job) -> Result<(), JobError> {
        let tenants = crate::tenancy::store::list(&app.db)
            .await
            .map_err(JobError::retry)?;
        for t in tenants
            .into_iter()
            .filter(|t| t.org_type == OrgType::Msp.as_str())
        {
            let Some(tenant) = crate::tenancy::store::by_slug(&app.db, &t.slug)
                .await
                .map_err(JobError::retry)?
            else {
                continue;
            };
            // "Past due" is judged on the tenant's own calendar: an invoice due on the 3rd is
            // overdue from midnight in the tenant's zone, not in UTC.
            let today = match &self.today {
                Some(day) => day.clone(),
                None => super::today_in(&tenant.time_zone),
            };
            let n = super::service::mark_overdue(app, &tenant.scope(), &today)
                .await
                .map_err(JobError::retry)?;
            if n > 0 {
                tracing::info!(tenant = %t.slug, invoices = n, "invoices became overdue");
            }
        }
        Ok(())
    }
}

/// Enqueues the overdue job at start and then every hour, since some tenant's date changes at
/// most hours (a run where no date changed flips nothing and sends nothing).
pub fn spawn_watch(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = -1;
        loop {
            let today = crate::db::now_ms() / 3_600_000;
            if today != last {
                let payload = serde_json::json!({});
                match crate::jobs::enqueue_operator(
                    &app.db,
                    None,
                    OverdueJob::KIND,
                    &payload,
                    crate::db::now_ms(),
                )
                .await
                {
                    Ok(_) => last = today,
                    Err(e) => tracing::warn!(error = %e, "cannot enqueue the overdue job"),
                }
            }
            tokio::time::sleep(Duration::from_secs(15 * 60)).await;
        }
    })
}
