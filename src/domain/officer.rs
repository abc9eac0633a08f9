//! Officers as the console knows them: their role, their login name, a new password they choose,
//! and where they work (district and desk). Parsing only; the permission rules live in
//! `permission`, password hashing in `crypto`, storage in `store`. Never holds a password hash.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// What an officer is. One role per account; the rules for each are in `permission::allows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Manages accounts; never sees a tip.
    Admin,
    /// IG/DIG: every district of the range, the audit log and the range dashboard.
    RangeSupervisor,
    /// ASP/SP: one district's queue, dispatch and review.
    DistrictSupervisor,
    /// Control room of one district: phone tips and first acknowledgement.
    Operator,
    /// A police station (thana): only what is assigned to it, only the brief.
    StationOfficer,
    /// A unit (cyber cell, crime branch, ...): only what is assigned to it, only the brief.
    UnitOfficer,
}

impl Role {
    /// Every role, in order of reach (widest first after the admin).
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::RangeSupervisor,
        Role::DistrictSupervisor,
        Role::Operator,
        Role::StationOfficer,
        Role::UnitOfficer,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::RangeSupervisor => "range_supervisor",
            Self::DistrictSupervisor => "district_supervisor",
            Self::Operator => "operator",
            Self::StationOfficer => "station_officer",
            Self::UnitOfficer => "unit_officer",
        }
    }

    /// Parses a stored name (exact, lower case).
    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether an officer of this role belongs to one district.
    pub fn needs_district(self) -> bool {
        matches!(
            self,
            Self::DistrictSupervisor | Self::Operator | Self::StationOfficer | Self::UnitOfficer
        )
    }

    /// Whether an officer of this role sits at a desk: a station id for a station officer, a
    /// unit id for a unit officer.
    pub fn needs_desk(self) -> bool {
        matches!(self, Self::StationOfficer | Self::UnitOfficer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an officer's input was refused. One variant per reason, so the web layer and the CLI can
/// say exactly what to fix.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum OfficerInputError {
    /// The login name is shorter than 3 or longer than 32 characters.
    #[error("the login name must be 3 to 32 characters long")]
    UsernameLength,
    /// The login name has a character outside a-z, 0-9, dot, underscore and hyphen.
    #[error("the login name may only contain a-z, 0-9, dot, underscore and hyphen")]
    UsernameCharacters,
    /// The login name does not start with a letter.
    #[error("the login name must start with a letter")]
    UsernameStart,
    /// The password is shorter than 12 characters.
    #[error("the password must be at least 12 characters long")]
    PasswordTooShort,
    /// The password is longer than 128 characters.
    #[error("the password must be at most 128 characters long")]
    PasswordTooLong,
    /// The password is one character repeated.
    #[error("the password must not be one character repeated")]
    PasswordRepeated,
    /// The password is the login name.
    #[error("the password must not be the login name")]
    PasswordIsUsername,
    /// The role works in one district, and none was given.
    #[error("this role needs a district")]
    DistrictMissing,
    /// The role covers the whole range (or no tips), and a district was given.
    #[error("this role does not belong to a district")]
    DistrictNotAllowed,
    /// The role sits at a station or unit, and none was given.
    #[error("this role needs a station or unit")]
    DeskMissing,
    /// The role has no desk, and one was given.
    #[error("this role does not sit at a station or unit")]
    DeskNotAllowed,
}

/// Login name: 3..=32 chars of [a-z0-9._-], starts with a letter; input is trimmed and
/// lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Parses a login name as typed (surrounding spaces and upper case are forgiven).
    pub fn parse(raw: &str) -> Result<Self, OfficerInputError> {
        let name = raw.trim();
        if !(3..=32).contains(&name.chars().count()) {
            return Err(OfficerInputError::UsernameLength);
        }
        // Checked before lower-casing: Unicode look-alikes (the Kelvin sign lower-cases to `k`)
        // must not reach an ASCII account.
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(OfficerInputError::UsernameCharacters);
        }
        let name = name.to_ascii_lowercase();
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(OfficerInputError::UsernameStart);
        }
        Ok(Self(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: 12..=128 chars (counted as chars), not all one repeated char, not equal to
/// the username. Kept as typed (no trimming: a space is a character like any other); never
/// printed by `Debug`.
pub struct NewPassword(SecretString);

impl NewPassword {
    /// Checks a password an officer chose (or an admin set) for `username`.
    pub fn parse(raw: &str, username: &Username) -> Result<Self, OfficerInputError> {
        let len = raw.chars().count();
        if len < 12 {
            return Err(OfficerInputError::PasswordTooShort);
        }
        if len > 128 {
            return Err(OfficerInputError::PasswordTooLong);
        }
        let mut chars = raw.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(OfficerInputError::PasswordRepeated);
        }
        if raw.trim().to_lowercase() == username.as_str() {
            return Err(OfficerInputError::PasswordIsUsername);
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// The password, only for hashing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// Where an officer works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficerScope {
    /// The officer's role.
    pub role: Role,
    /// The district, for roles that belong to one.
    pub district_id: Option<String>,
    /// The station id (station officer) or unit id (unit officer).
    pub desk_id: Option<String>,
}

impl OfficerScope {
    /// Builds a scope whose district and desk fit the role: admin and range supervisor have
    /// neither, the district roles a district, station and unit officers also a desk. Blank ids
    /// count as missing. Whether the ids exist is for the caller (jurisdiction data) to check.
    pub fn new(
        role: Role,
        district_id: Option<String>,
        desk_id: Option<String>,
    ) -> Result<Self, OfficerInputError> {
        let district_id = non_blank(district_id);
        let desk_id = non_blank(desk_id);
        match (role.needs_district(), district_id.is_some()) {
            (true, false) => return Err(OfficerInputError::DistrictMissing),
            (false, true) => return Err(OfficerInputError::DistrictNotAllowed),
            _ => {}
        }
        match (role.needs_desk(), desk_id.is_some()) {
            (true, false) => return Err(OfficerInputError::DeskMissing),
            (false, true) => return Err(OfficerInputError::DeskNotAllowed),
            _ => {}
        }
        Ok(Self {
            role,
            district_id,
            desk_id,
        })
    }

    /// Whether district and desk fit the role (what `new` enforces; the fields are public, so
    /// the permission check asks again).
    pub fn is_consistent(&self) -> bool {
        let district_ok = self.role.needs_district()
            == self
                .district_id
                .as_deref()
                .is_some_and(|d| !d.trim().is_empty());
        let desk_ok = self.role.needs_desk()
            == self
                .desk_id
                .as_deref()
                .is_some_and(|d| !d.trim().is_empty());
        district_ok && desk_ok
    }
}

fn non_blank(id: Option<String>) -> Option<String> {
    id.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_know_their_scope() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("superuser"), None);
        let district: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.needs_district())
            .collect();
        assert_eq!(
            district,
            [
                Role::DistrictSupervisor,
                Role::Operator,
                Role::StationOfficer,
                Role::UnitOfficer
            ]
        );
        let desk: Vec<_> = Role::ALL.into_iter().filter(|r| r.needs_desk()).collect();
        assert_eq!(desk, [Role::StationOfficer, Role::UnitOfficer]);
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            Username::parse("  ASP.Korba_1 ").unwrap().as_str(),
            "asp.korba_1"
        );
        assert_eq!(Username::parse("abc").unwrap().as_str(), "abc");
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        use OfficerInputError::*;
        assert_eq!(Username::parse("ab"), Err(UsernameLength));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameLength));
        assert_eq!(Username::parse("   "), Err(UsernameLength));
        assert_eq!(Username::parse("1abc"), Err(UsernameStart));
        assert_eq!(Username::parse(".abc"), Err(UsernameStart));
        assert_eq!(Username::parse("ab c"), Err(UsernameCharacters));
        assert_eq!(Username::parse("रमेश_कुमार"), Err(UsernameCharacters));
        assert_eq!(Username::parse("abc<script>"), Err(UsernameCharacters));
        // Unicode that lower-cases to ASCII look-alikes is still refused.
        assert_eq!(Username::parse("\u{212A}elvin"), Err(UsernameCharacters));
    }

    #[test]
    fn new_passwords_are_checked_and_hidden() {
        use OfficerInputError::*;
        let user = Username::parse("thana.kotwali").unwrap();
        let p = NewPassword::parse("correct horse battery", &user).unwrap();
        assert_eq!(p.expose(), "correct horse battery");
        assert_eq!(format!("{p:?}"), "NewPassword(..)");
        // Counted in characters, not bytes: 12 Devanagari characters are enough.
        assert!(NewPassword::parse("सूचनादातासुरक्षित", &user).is_ok());
        assert_eq!(
            NewPassword::parse("short", &user).unwrap_err(),
            PasswordTooShort
        );
        assert_eq!(
            NewPassword::parse("गगगगगगगगगगग", &user).unwrap_err(),
            PasswordTooShort
        );
        assert!(NewPassword::parse(&"ab".repeat(64), &user).is_ok());
        assert_eq!(
            NewPassword::parse(&"ab".repeat(64).replace("ab", "abc"), &user).unwrap_err(),
            PasswordTooLong
        );
        assert_eq!(
            NewPassword::parse(&"x".repeat(20), &user).unwrap_err(),
            PasswordRepeated
        );
        assert_eq!(
            NewPassword::parse("Thana.Kotwali", &user).unwrap_err(),
            PasswordIsUsername
        );
    }

    #[test]
    fn scopes_fit_their_role() {
        use OfficerInputError::*;
        let s = |r, d: Option<&str>, k: Option<&str>| {
            OfficerScope::new(r, d.map(str::to_owned), k.map(str::to_owned))
        };
        assert!(s(Role::Admin, None, None).unwrap().is_consistent());
        assert!(s(Role::RangeSupervisor, None, None).is_ok());
        assert_eq!(
            s(Role::RangeSupervisor, Some("korba"), None),
            Err(DistrictNotAllowed)
        );
        assert_eq!(s(Role::Admin, None, Some("kotwali")), Err(DeskNotAllowed));
        assert!(s(Role::DistrictSupervisor, Some("korba"), None).is_ok());
        assert_eq!(
            s(Role::DistrictSupervisor, None, None),
            Err(DistrictMissing)
        );
        assert_eq!(s(Role::Operator, Some("  "), None), Err(DistrictMissing));
        assert_eq!(
            s(Role::Operator, Some("korba"), Some("x")),
            Err(DeskNotAllowed)
        );
        assert_eq!(
            s(Role::StationOfficer, Some("korba"), None),
            Err(DeskMissing)
        );
        assert_eq!(
            s(Role::UnitOfficer, None, Some("cyber")),
            Err(DistrictMissing)
        );
        let ok = s(Role::StationOfficer, Some(" korba "), Some("kotwali")).unwrap();
        assert_eq!(ok.district_id.as_deref(), Some("korba"));
        assert!(ok.is_consistent());
        let forged = OfficerScope {
            role: Role::DistrictSupervisor,
            district_id: None,
            desk_id: None,
        };
        assert!(!forged.is_consistent());
    }
}
