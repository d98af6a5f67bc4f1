//! Wards, staff and shifts: who is working now, where, and as what. Routing
//! (who may take a task) and visibility (who hears about it) are answered here.

use std::collections::{BTreeMap, HashMap};
use wardpage_proto::{
    Millis, Requirement, Role, ShiftView, Skill, StaffId, StaffRef, StaffView, WardId, WardView,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ward {
    pub id: WardId,
    pub name: String,
    pub beds: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: StaffId,
    pub login: String,
    pub name: String,
    /// Substantive role (grade).
    pub role: Role,
    pub skills: Vec<Skill>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub role: Role,
    pub wards: Vec<WardId>,
    pub starts_at: Millis,
    pub ends_at: Millis,
}

impl Shift {
    pub fn is_on(&self, now: Millis) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    pub fn covers(&self, ward: &WardId) -> bool {
        self.wards.iter().any(|w| w == ward)
    }

    pub fn view(&self) -> ShiftView {
        ShiftView {
            role: self.role,
            wards: self.wards.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        }
    }
}

/// The hospital's people and places.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub wards: BTreeMap<WardId, Ward>,
    pub staff: HashMap<StaffId, Staff>,
    pub shifts: HashMap<StaffId, Shift>,
}

impl Roster {
    /// The member of staff's shift, if they are on it now.
    pub fn on_shift(&self, staff: StaffId, now: Millis) -> Option<&Shift> {
        self.shifts.get(&staff).filter(|s| s.is_on(now))
    }

    /// Whether the member of staff oversees the whole hospital (coordinator
    /// or admin by grade, or on a coordinator shift).
    pub fn oversees(&self, staff: StaffId, now: Millis) -> bool {
        self.staff
            .get(&staff)
            .is_some_and(|s| s.role.oversees_all())
            || self
                .on_shift(staff, now)
                .is_some_and(|s| s.role.oversees_all())
    }

    /// Staff on shift now who cover `ward` and meet `req`, except `exclude`;
    /// sorted by name so that offers list in a stable order.
    pub fn candidates(
        &self,
        ward: &WardId,
        req: Requirement,
        exclude: StaffId,
        now: Millis,
    ) -> Vec<StaffId> {
        let mut found: Vec<&Staff> = self
            .shifts
            .iter()
            .filter(|(id, shift)| **id != exclude && shift.is_on(now) && shift.covers(ward))
            .filter_map(|(id, shift)| {
                let staff = self.staff.get(id).filter(|s| s.active)?;
                let fits = match req {
                    Requirement::Role(role) => shift.role == role,
                    Requirement::Skill(skill) => staff.skills.contains(&skill),
                };
                fits.then_some(staff)
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        found.into_iter().map(|s| s.id).collect()
    }

    /// Everyone on shift who oversees the hospital.
    pub fn overseers(&self, now: Millis) -> impl Iterator<Item = StaffId> + '_ {
        self.shifts
            .iter()
            .filter(move |(id, s)| {
                // Cheapest test first: this runs for every shift on every change.
                s.is_on(now)
                    && (s.role.oversees_all()
                        || self.staff.get(id).is_some_and(|st| st.role.oversees_all()))
            })
            .map(|(id, _)| *id)
    }

    /// Ward-based staff (nurses, HCAs, nurse in charge) on shift covering `ward`.
    pub fn ward_team(&self, ward: &WardId, now: Millis) -> impl Iterator<Item = StaffId> + '_ {
        let ward = ward.clone();
        self.shifts
            .iter()
            .filter(move |(_, s)| s.is_on(now) && s.role.is_ward_based() && s.covers(&ward))
            .map(|(id, _)| *id)
    }

    /// Everyone on shift now in `role`.
    pub fn on_shift_in_role(&self, role: Role, now: Millis) -> Vec<StaffId> {
        let mut ids: Vec<StaffId> = self
            .shifts
            .iter()
            .filter(|(_, s)| s.is_on(now) && s.role == role)
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids
    }

    pub fn staff_ref(&self, id: StaffId) -> StaffRef {
        StaffRef {
            id,
            name: self
                .staff
                .get(&id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "(unknown)".into()),
        }
    }

    pub fn staff_view(&self, id: StaffId, now: Millis) -> Option<StaffView> {
        let s = self.staff.get(&id)?;
        Some(StaffView {
            id,
            login: s.login.clone(),
            name: s.name.clone(),
            role: s.role,
            skills: s.skills.clone(),
            shift: self.on_shift(id, now).map(Shift::view),
            connected: false,
            last_seen_at: None,
            last_action_at: None,
        })
    }

    pub fn ward_views(&self) -> Vec<WardView> {
        self.wards
            .values()
            .map(|w| WardView {
                id: w.id.clone(),
                name: w.name.clone(),
                beds: w.beds.clone(),
            })
            .collect()
    }
}
