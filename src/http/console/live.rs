//! The live queue: a server-sent event stream that says "a tip arrived for your queue" (and
//! whether it is urgent), never what it says. The page's small script fetches the queue again.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::Officer;
use crate::domain::{OfficerScope, Role};
use crate::http::AppState;
use crate::intake::TipEvent;

/// Whether a new tip lands in this officer's queue.
fn concerns(scope: &OfficerScope, e: &TipEvent) -> bool {
    match scope.role {
        Role::RangeSupervisor => true,
        Role::DistrictSupervisor => e.district_id.is_some() && e.district_id == scope.district_id,
        Role::Operator => {
            !e.police_involvement && e.district_id.is_some() && e.district_id == scope.district_id
        }
        // Stations and units see tips only once dispatched; admins never see tips.
        _ => false,
    }
}

pub async fn events(
    State(state): State<AppState>,
    officer: Officer,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.core.events.subscribe();
    let scope = officer.session.scope;
    let stream = stream::unfold((rx, scope), |(mut rx, scope)| async move {
        loop {
            match rx.recv().await {
                Ok(e) if concerns(&scope, &e) => {
                    let data = if e.urgent { "urgent" } else { "normal" };
                    return Some((Ok(Event::default().event("tip").data(data)), (rx, scope)));
                }
                Ok(_) => continue,
                // Missed some: one refresh covers them all.
                Err(RecvError::Lagged(_)) => {
                    return Some((
                        Ok(Event::default().event("tip").data("normal")),
                        (rx, scope),
                    ));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(role: Role, district: Option<&str>, desk: Option<&str>) -> OfficerScope {
        OfficerScope::new(role, district.map(str::to_owned), desk.map(str::to_owned)).unwrap()
    }

    #[test]
    fn only_officers_whose_queue_gets_the_tip_hear_of_it() {
        let korba = TipEvent {
            district_id: Some("korba".into()),
            urgent: true,
            police_involvement: false,
        };
        let police = TipEvent {
            police_involvement: true,
            ..korba.clone()
        };
        assert!(concerns(&scope(Role::RangeSupervisor, None, None), &police));
        assert!(concerns(
            &scope(Role::DistrictSupervisor, Some("korba"), None),
            &police
        ));
        assert!(!concerns(
            &scope(Role::DistrictSupervisor, Some("raigarh"), None),
            &korba
        ));
        assert!(concerns(
            &scope(Role::Operator, Some("korba"), None),
            &korba
        ));
        assert!(!concerns(
            &scope(Role::Operator, Some("korba"), None),
            &police
        ));
        assert!(!concerns(
            &scope(Role::StationOfficer, Some("korba"), Some("krb-bankimongra")),
            &korba
        ));
        assert!(!concerns(&scope(Role::Admin, None, None), &korba));
    }
}
