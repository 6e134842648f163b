//! The Alga PSA connector (REST API v1, `x-api-key`).

use super::connector::{
    ChangePage, Connector, Http, NewRemoteComment, NewRemoteTicket, PsaError, RemoteCompany,
    RemoteContact, RemoteTicket, TicketPatch,
};

/// An Alga PSA instance.
#[derive(Debug)]
pub struct Alga {
    #[allow(dead_code)]
    http: Http,
}

impl Alga {
    /// A connector for `base` (the Alga address) with `api_key`.
    pub fn new(base: &str, api_key: &str) -> Result<Alga, PsaError> {
        Ok(Alga {
            http: Http::new(base, "x-api-key", api_key.to_string())?,
        })
    }
}

fn todo<T>() -> Result<T, PsaError> {
    Err(PsaError::Refused {
        status: 501,
        message: "not implemented".into(),
    })
}

impl Connector for Alga {
    async fn list_changes(&self, _cursor: Option<&str>) -> Result<ChangePage, PsaError> {
        todo()
    }
    async fn create_ticket(
        &self,
        _t: &NewRemoteTicket,
        _key: &str,
    ) -> Result<RemoteTicket, PsaError> {
        todo()
    }
    async fn update_ticket(&self, _id: &str, _p: &TicketPatch) -> Result<(), PsaError> {
        todo()
    }
    async fn add_comment(
        &self,
        _t: &str,
        _c: &NewRemoteComment,
        _key: &str,
    ) -> Result<String, PsaError> {
        todo()
    }
    async fn list_companies(&self) -> Result<Vec<RemoteCompany>, PsaError> {
        todo()
    }
    async fn list_contacts(&self) -> Result<Vec<RemoteContact>, PsaError> {
        todo()
    }
}
