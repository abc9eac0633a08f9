//! The role matrix, written out by hand: every role, every action, every kind of tip. The
//! expected cells are not computed by calling `allows`, so a change to the rules that is not also
//! made here (and in docs/roles.md) fails.

use super::*;

const DISTRICT: &str = "bilaspur";
const STATION: &str = "kotwali";
const UNIT: &str = "cyber_cell_bilaspur";

/// Column order of the table below.
const COLUMNS: [&str; 8] = [
    "no tip",
    "own district, unassigned",
    "other district",
    "no district",
    "own district, police involvement, not assigned",
    "own district, assigned to the station and the unit",
    "own district, police involvement, station barred but assigned to it anyway",
    "other district, assigned to desks with the same ids",
];

/// `Y` allowed, `.` refused, one character per column above.
const EXPECTED: [(Role, Action, &str); 108] = {
    use Action::*;
    use Role::*;
    [
        (Admin, ViewQueue, "........"),
        (Admin, ViewTipText, "........"),
        (Admin, ViewBrief, "........"),
        (Admin, Acknowledge, "........"),
        (Admin, Assign, "........"),
        (Admin, MessageTipster, "........"),
        (Admin, StartAction, "........"),
        (Admin, ReportAction, "........"),
        (Admin, ReviewAndClose, "........"),
        (Admin, MarkDuplicate, "........"),
        (Admin, MarkNotActionable, "........"),
        (Admin, CorrectTriage, "........"),
        (Admin, EnterPhoneTip, "........"),
        (Admin, ReadAudit, "........"),
        (Admin, ViewRangeDashboard, "........"),
        (Admin, ViewDigest, "........"),
        (Admin, ReleaseOriginal, "........"),
        (Admin, ManageOfficers, "Y......."),
        (RangeSupervisor, ViewQueue, "YYYYYYYY"),
        (RangeSupervisor, ViewTipText, ".YYYYYYY"),
        (RangeSupervisor, ViewBrief, ".YYYYYYY"),
        (RangeSupervisor, Acknowledge, ".YYYYYYY"),
        (RangeSupervisor, Assign, ".YYYYYYY"),
        (RangeSupervisor, MessageTipster, ".YYYYYYY"),
        (RangeSupervisor, StartAction, "........"),
        (RangeSupervisor, ReportAction, "........"),
        (RangeSupervisor, ReviewAndClose, ".YYYYYYY"),
        (RangeSupervisor, MarkDuplicate, ".YYYYYYY"),
        (RangeSupervisor, MarkNotActionable, ".YYYYYYY"),
        (RangeSupervisor, CorrectTriage, ".YYYYYYY"),
        (RangeSupervisor, EnterPhoneTip, "........"),
        (RangeSupervisor, ReadAudit, "YYYYYYYY"),
        (RangeSupervisor, ViewRangeDashboard, "YYYYYYYY"),
        (RangeSupervisor, ViewDigest, "YYYYYYYY"),
        (RangeSupervisor, ReleaseOriginal, ".YYYYYYY"),
        (RangeSupervisor, ManageOfficers, "........"),
        (DistrictSupervisor, ViewQueue, "YY..YYY."),
        (DistrictSupervisor, ViewTipText, ".Y..YYY."),
        (DistrictSupervisor, ViewBrief, ".Y..YYY."),
        (DistrictSupervisor, Acknowledge, ".Y..YYY."),
        (DistrictSupervisor, Assign, ".Y..YYY."),
        (DistrictSupervisor, MessageTipster, ".Y..YYY."),
        (DistrictSupervisor, StartAction, "........"),
        (DistrictSupervisor, ReportAction, "........"),
        (DistrictSupervisor, ReviewAndClose, ".Y..YYY."),
        (DistrictSupervisor, MarkDuplicate, ".Y..YYY."),
        (DistrictSupervisor, MarkNotActionable, ".Y..YYY."),
        (DistrictSupervisor, CorrectTriage, ".Y..YYY."),
        (DistrictSupervisor, EnterPhoneTip, "YY..YYY."),
        (DistrictSupervisor, ReadAudit, "........"),
        (DistrictSupervisor, ViewRangeDashboard, "........"),
        (DistrictSupervisor, ViewDigest, "YY..YYY."),
        (DistrictSupervisor, ReleaseOriginal, "........"),
        (DistrictSupervisor, ManageOfficers, "........"),
        (Operator, ViewQueue, "YY...Y.."),
        (Operator, ViewTipText, ".Y...Y.."),
        (Operator, ViewBrief, "........"),
        (Operator, Acknowledge, ".Y...Y.."),
        (Operator, Assign, "........"),
        (Operator, MessageTipster, "........"),
        (Operator, StartAction, "........"),
        (Operator, ReportAction, "........"),
        (Operator, ReviewAndClose, "........"),
        (Operator, MarkDuplicate, "........"),
        (Operator, MarkNotActionable, "........"),
        (Operator, CorrectTriage, "........"),
        (Operator, EnterPhoneTip, "YY...Y.."),
        (Operator, ReadAudit, "........"),
        (Operator, ViewRangeDashboard, "........"),
        (Operator, ViewDigest, "........"),
        (Operator, ReleaseOriginal, "........"),
        (Operator, ManageOfficers, "........"),
        (StationOfficer, ViewQueue, "Y....Y.."),
        (StationOfficer, ViewTipText, "........"),
        (StationOfficer, ViewBrief, ".....Y.."),
        (StationOfficer, Acknowledge, "........"),
        (StationOfficer, Assign, "........"),
        (StationOfficer, MessageTipster, "........"),
        (StationOfficer, StartAction, ".....Y.."),
        (StationOfficer, ReportAction, ".....Y.."),
        (StationOfficer, ReviewAndClose, "........"),
        (StationOfficer, MarkDuplicate, "........"),
        (StationOfficer, MarkNotActionable, "........"),
        (StationOfficer, CorrectTriage, "........"),
        (StationOfficer, EnterPhoneTip, "........"),
        (StationOfficer, ReadAudit, "........"),
        (StationOfficer, ViewRangeDashboard, "........"),
        (StationOfficer, ViewDigest, "........"),
        (StationOfficer, ReleaseOriginal, "........"),
        (StationOfficer, ManageOfficers, "........"),
        (UnitOfficer, ViewQueue, "Y....YY."),
        (UnitOfficer, ViewTipText, "........"),
        (UnitOfficer, ViewBrief, ".....YY."),
        (UnitOfficer, Acknowledge, "........"),
        (UnitOfficer, Assign, "........"),
        (UnitOfficer, MessageTipster, "........"),
        (UnitOfficer, StartAction, ".....YY."),
        (UnitOfficer, ReportAction, ".....YY."),
        (UnitOfficer, ReviewAndClose, "........"),
        (UnitOfficer, MarkDuplicate, "........"),
        (UnitOfficer, MarkNotActionable, "........"),
        (UnitOfficer, CorrectTriage, "........"),
        (UnitOfficer, EnterPhoneTip, "........"),
        (UnitOfficer, ReadAudit, "........"),
        (UnitOfficer, ViewRangeDashboard, "........"),
        (UnitOfficer, ViewDigest, "........"),
        (UnitOfficer, ReleaseOriginal, "........"),
        (UnitOfficer, ManageOfficers, "........"),
    ]
};

fn officer(role: Role) -> OfficerScope {
    let district = role.needs_district().then(|| DISTRICT.to_owned());
    let desk = match role {
        Role::StationOfficer => Some(STATION.to_owned()),
        Role::UnitOfficer => Some(UNIT.to_owned()),
        _ => None,
    };
    OfficerScope::new(role, district, desk).unwrap()
}

fn tips<'a>(both: &'a [String], none: &'a [String]) -> [Option<TipScope<'a>>; 8] {
    let tip = |district, police, barred, assigned| {
        Some(TipScope {
            district_id: district,
            police_involvement: police,
            barred_station_id: barred,
            assigned_desks: assigned,
        })
    };
    [
        None,
        tip(Some(DISTRICT), false, None, none),
        tip(Some("korba"), false, None, none),
        tip(None, false, None, none),
        tip(Some(DISTRICT), true, Some(STATION), none),
        tip(Some(DISTRICT), false, None, both),
        tip(Some(DISTRICT), true, Some(STATION), both),
        tip(Some("korba"), false, None, both),
    ]
}

#[test]
fn every_role_action_and_tip_matches_the_written_table() {
    let both = [STATION.to_owned(), UNIT.to_owned()];
    let scopes = tips(&both, &[]);
    let mut checked = 0;
    for role in Role::ALL {
        let who = officer(role);
        for action in Action::ALL {
            let row = EXPECTED
                .iter()
                .find(|(r, a, _)| *r == role && *a == action)
                .map(|(_, _, cells)| *cells)
                .unwrap_or_else(|| panic!("no row for {role:?} {action:?}"));
            assert_eq!(row.len(), COLUMNS.len(), "{role:?} {action:?}");
            for ((cell, tip), column) in row.chars().zip(&scopes).zip(COLUMNS) {
                let want = cell == 'Y';
                let got = allows(&who, action, tip.as_ref());
                assert_eq!(got, want, "{role:?} {action:?} on {column}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 18 * 8);
}

#[test]
fn the_table_has_each_row_once() {
    for (i, (r, a, _)) in EXPECTED.iter().enumerate() {
        assert!(
            !EXPECTED[..i].iter().any(|(r2, a2, _)| r2 == r && a2 == a),
            "{r:?} {a:?} twice"
        );
    }
}

#[test]
fn forged_scopes_reach_nothing() {
    // The fields are public; a scope that skipped `OfficerScope::new` must not widen anything.
    let no_tip_desks: [String; 0] = [];
    let unrouted = TipScope {
        district_id: None,
        police_involvement: false,
        barred_station_id: None,
        assigned_desks: &no_tip_desks,
    };
    let districtless = OfficerScope {
        role: Role::DistrictSupervisor,
        district_id: None,
        desk_id: None,
    };
    assert!(!allows(&districtless, Action::ViewTipText, Some(&unrouted)));
    assert!(!allows(&districtless, Action::ViewQueue, None));
    let deskless = OfficerScope {
        role: Role::StationOfficer,
        district_id: Some(DISTRICT.to_owned()),
        desk_id: None,
    };
    assert!(!allows(&deskless, Action::ViewQueue, None));
    let admin_with_district = OfficerScope {
        role: Role::Admin,
        district_id: Some(DISTRICT.to_owned()),
        desk_id: None,
    };
    assert!(!allows(&admin_with_district, Action::ManageOfficers, None));
}

#[test]
fn actions_round_trip_and_know_whether_they_need_a_tip() {
    for a in Action::ALL {
        assert_eq!(Action::parse(a.as_str()), Some(a));
    }
    let tipless: Vec<_> = Action::ALL.into_iter().filter(|a| !a.needs_tip()).collect();
    assert_eq!(
        tipless,
        [
            Action::ViewQueue,
            Action::EnterPhoneTip,
            Action::ReadAudit,
            Action::ViewRangeDashboard,
            Action::ViewDigest,
            Action::ManageOfficers
        ]
    );
}
