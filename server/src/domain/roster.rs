//! Wards, staff and shifts: who is working now, where, and as what. Routing
//! (who may take a task) and visibility (who hears about it) are answered here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;
use wardpage_proto::{
    BusyView, Millis, Requirement, Role, ShiftView, Skill, StaffId, StaffRef, StaffView, WardId,
    WardView,
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
    /// Their busy state (`set_busy`), ended by `end_busy`, its `until`
    /// (a deadline, `Subject::Busy`) or the shift's end; a replaced shift
    /// keeps it.
    pub busy: Option<BusyView>,
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
            busy: self.busy.clone(),
        }
    }
}

/// The hospital's people and places.
///
/// `wards` and `staff` are filled when the roster is built (from the store
/// or a test) and replaced whole on a reload; shifts change through
/// [`Roster::set_shift`], which keeps the routing index true.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub wards: BTreeMap<WardId, Ward>,
    pub staff: HashMap<StaffId, Staff>,
    shifts: HashMap<StaffId, Shift>,
    /// Who works where, built on first use after a change: every task
    /// change asks who covers its ward and who oversees the hospital, and
    /// walking every shift for that showed up in profiles.
    index: OnceLock<Index>,
}

/// Shift holders by ward and the overseers, whatever the time: callers
/// still check `is_on(now)`, so the index stays true as shifts start and end.
#[derive(Debug, Clone, Default)]
struct Index {
    by_ward: HashMap<WardId, Vec<StaffId>>,
    overseers: Vec<StaffId>,
}

impl Index {
    fn build(roster: &Roster) -> Index {
        let mut index = Index::default();
        for (id, shift) in &roster.shifts {
            for w in &shift.wards {
                index.by_ward.entry(w.clone()).or_default().push(*id);
            }
            if shift.role.oversees_all()
                || roster.staff.get(id).is_some_and(|s| s.role.oversees_all())
            {
                index.overseers.push(*id);
            }
        }
        index
    }
}

impl Roster {
    /// Starts, changes or (with `None`) ends a member of staff's shift.
    pub fn set_shift(&mut self, staff: StaffId, shift: Option<Shift>) {
        match shift {
            Some(s) => self.shifts.insert(staff, s),
            None => self.shifts.remove(&staff),
        };
        self.index = OnceLock::new();
    }

    /// Every shift, on now or not.
    pub fn shifts(&self) -> &HashMap<StaffId, Shift> {
        &self.shifts
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(self))
    }

    /// Shift holders covering `ward` now, with their shifts.
    fn covering<'a>(
        &'a self,
        ward: &WardId,
        now: Millis,
    ) -> impl Iterator<Item = (StaffId, &'a Shift)> + 'a {
        self.index()
            .by_ward
            .get(ward)
            .into_iter()
            .flatten()
            .filter_map(move |id| {
                let s = self.shifts.get(id)?;
                s.is_on(now).then_some((*id, s))
            })
    }

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
            .covering(ward, now)
            .filter(|(id, _)| *id != exclude)
            .filter_map(|(id, shift)| {
                let staff = self.staff.get(&id).filter(|s| s.active)?;
                let fits = match req {
                    Requirement::Role(role) => shift.role == role,
                    Requirement::Skill(skill) => staff.skills.contains(&skill),
                    Requirement::AnyRole(roles) => roles.contains(shift.role),
                };
                fits.then_some(staff)
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        found.into_iter().map(|s| s.id).collect()
    }

    /// Everyone on shift now covering `ward`, whatever their role.
    pub fn covering_ids<'a>(
        &'a self,
        ward: &WardId,
        now: Millis,
    ) -> impl Iterator<Item = StaffId> + 'a {
        self.covering(ward, now).map(|(id, _)| id)
    }

    /// Everyone on shift who oversees the hospital.
    pub fn overseers(&self, now: Millis) -> impl Iterator<Item = StaffId> + '_ {
        self.index()
            .overseers
            .iter()
            .copied()
            .filter(move |id| self.shifts.get(id).is_some_and(|s| s.is_on(now)))
    }

    /// Ward-based staff (nurses, HCAs, nurse in charge) on shift covering `ward`.
    pub fn ward_team(&self, ward: &WardId, now: Millis) -> impl Iterator<Item = StaffId> + '_ {
        self.covering(ward, now)
            .filter(|(_, s)| s.role.is_ward_based())
            .map(|(id, _)| id)
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

    /// Active staff on shift now in any of `roles`, covering `ward` when
    /// one is given: whom an escalation step alerts.
    pub fn on_shift_in(
        &self,
        roles: &[Role],
        ward: Option<&WardId>,
        now: Millis,
    ) -> BTreeSet<StaffId> {
        self.shifts
            .iter()
            .filter(|(id, s)| {
                s.is_on(now)
                    && roles.contains(&s.role)
                    && ward.is_none_or(|w| s.covers(w))
                    && self.staff.get(id).is_some_and(|st| st.active)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Their names, for the audit trail; says so when there is nobody.
    pub fn names(&self, who: &BTreeSet<StaffId>) -> String {
        if who.is_empty() {
            return "nobody (no one is on shift)".into();
        }
        who.iter()
            .map(|s| self.staff_ref(*s).name)
            .collect::<Vec<_>>()
            .join(", ")
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

    /// Everyone's name, for answers put together away from the roster.
    pub fn staff_refs(&self) -> HashMap<StaffId, StaffRef> {
        self.staff
            .keys()
            .map(|id| (*id, self.staff_ref(*id)))
            .collect()
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
