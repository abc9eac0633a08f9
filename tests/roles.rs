//! The role matrix, walked over HTTP: every console route for every role, including officers of
//! another district and of another station. The expected answers are written out here from
//! docs/roles.md; any read or write outside the table fails the test, and a refused write must
//! leave the tip unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use common::officer::OfficerClient;
use tipline::domain::Role;

/// The officers of the walk: (login, role, district, desk).
const OFFICERS: [(&str, Role, Option<&str>, Option<&str>); 9] = [
    ("admin", Role::Admin, None, None),
    ("ig.range", Role::RangeSupervisor, None, None),
    ("asp.bsp", Role::DistrictSupervisor, Some("bilaspur"), None),
    ("asp.krb", Role::DistrictSupervisor, Some("korba"), None),
    ("op.bsp", Role::Operator, Some("bilaspur"), None),
    ("op.krb", Role::Operator, Some("korba"), None),
    (
        "sho.sarkanda",
        Role::StationOfficer,
        Some("bilaspur"),
        Some("bsp-sarkanda"),
    ),
    (
        "sho.torwa",
        Role::StationOfficer,
        Some("bilaspur"),
        Some("bsp-torwa"),
    ),
    (
        "cyber.bsp",
        Role::UnitOfficer,
        Some("bilaspur"),
        Some("bsp-accu"),
    ),
];

/// Expected status per route, in the order of `OFFICERS`.
const MATRIX: [(&str, [u16; 9]); 11] = [
    //                         admin  ig   asp  aspK  op  opK  sho  shoT unit
    ("GET queue", [303, 200, 200, 200, 200, 200, 200, 200, 200]),
    (
        "GET assigned tip",
        [404, 200, 200, 404, 200, 404, 200, 404, 404],
    ),
    (
        "POST message",
        [404, 303, 303, 404, 403, 404, 403, 404, 404],
    ),
    (
        "POST acknowledge",
        [404, 303, 303, 404, 303, 404, 404, 404, 404],
    ),
    ("GET entry", [403, 403, 200, 200, 200, 200, 403, 403, 403]),
    ("POST entry", [403, 403, 201, 201, 201, 201, 403, 403, 403]),
    (
        "GET officers",
        [200, 403, 403, 403, 403, 403, 403, 403, 403],
    ),
    (
        "POST officers",
        [201, 403, 403, 403, 403, 403, 403, 403, 403],
    ),
    ("GET audit", [403, 200, 403, 403, 403, 403, 403, 403, 403]),
    ("GET digest", [403, 200, 200, 200, 403, 403, 403, 403, 403]),
    (
        "GET Korba digest",
        [403, 200, 403, 200, 403, 403, 403, 403, 403],
    ),
];

async fn walk(o: &OfficerClient<'_>, i: usize, route: &str, assigned: &str, fresh: &str) -> u16 {
    let status = match route {
        "GET queue" => o.get("/console/").await.status(),
        "GET assigned tip" => o.get(&format!("/console/tips/{assigned}")).await.status(),
        "POST message" => o
            .post(
                &format!("/console/tips/{assigned}/message"),
                &[("text", "A question for the informer")],
            )
            .await
            .status(),
        "POST acknowledge" => o.step(fresh, "new", "acknowledge", &[]).await.status(),
        "GET entry" => o.get("/console/entry").await.status(),
        "POST entry" => o
            .post(
                "/console/entry",
                &[("text", "Jua chal raha hai market ke peeche")],
            )
            .await
            .status(),
        "GET officers" => o.get("/console/officers").await.status(),
        "POST officers" => {
            let name = format!("new.officer{i}");
            let fields = [
                ("username", name.as_str()),
                ("display_name", "New"),
                ("role", "operator"),
                ("district", "mungeli"),
                ("password", "a long enough password"),
            ];
            o.post("/console/officers", &fields).await.status()
        }
        "GET audit" => o.get("/console/audit").await.status(),
        "GET digest" => o.get("/console/digest").await.status(),
        "GET Korba digest" => o.get("/console/digest?district=korba").await.status(),
        other => panic!("unknown route {other}"),
    };
    status.as_u16()
}

on_both_backends!(every_role_on_every_route, |app: TestApp| async move {
    let (assigned, _) = app
        .submit_tip("Sarkanda me ganja bik raha hai roz shaam", Some("bilaspur"))
        .await;
    let asp = app
        .officer(
            "setup.asp",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    let brief = "Ganja sale reported in Sarkanda in the evenings. Verify.";
    assert_eq!(
        asp.step(
            &assigned,
            "new",
            "assign",
            &[("desk", "bsp-sarkanda"), ("brief", brief)]
        )
        .await
        .status(),
        303
    );

    let mut failures = Vec::new();
    for (i, (login, role, district, desk)) in OFFICERS.iter().enumerate() {
        let o = app.officer(login, *role, *district, *desk).await;
        for (route, expected) in MATRIX {
            // Each officer gets its own new tip to acknowledge, so one success cannot hide another.
            let (fresh, _) = app
                .submit_tip("Gaon me kachchi sharab bik rahi hai", Some("bilaspur"))
                .await;
            let got = walk(&o, i, route, &assigned, &fresh).await;
            if got != expected[i] {
                failures.push(format!(
                    "{login} {route}: expected {}, got {got}",
                    expected[i]
                ));
            }
            if route == "POST acknowledge" && expected[i] != 303 {
                let id = app
                    .core
                    .store
                    .tip_auth(&fresh)
                    .await
                    .unwrap()
                    .unwrap()
                    .tip_id;
                let status = app.core.store.tip(id).await.unwrap().unwrap().status;
                assert_eq!(status, "new", "{login}: a refused step changed the tip");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "role matrix violations:\n{}",
        failures.join("\n")
    );
});
