//! A bedside observation set as the wire carries it: the quantised number
//! types ([`Whole`], [`Tenths`]), the ways a patient breathes, and the
//! plausible range of every vital sign, checked by
//! [`ObservationSet::validate`].

use super::{MAX_TAKEN_AGO_MS, MAX_TAKEN_AHEAD_MS};
use crate::error::FieldError;
use crate::Millis;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

/// A value quantised to a whole number (breaths, beats, mmHg, %): sent as
/// any JSON number, rounded to the nearest whole, halves up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, TS)]
#[ts(export, type = "number")]
pub struct Whole(pub i32);

/// A value quantised to tenths (°C, L/min): sent as any JSON number,
/// rounded to the nearest 0.1, halves up; held as tenths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, TS)]
#[ts(export, type = "number")]
pub struct Tenths(pub i32);

/// Far outside any plausible vital sign: larger numbers are clamped here
/// before the range check refuses them, so no cast can overflow.
const CLAMP: f64 = 1.0e6;

/// Rounds half up, after a nudge that absorbs binary representation error:
/// 35.05 is stored as 35.04999…, and must count as 35.05.
fn round_half_up(x: f64, scale: f64) -> i32 {
    let x = x.clamp(-CLAMP, CLAMP) * scale;
    (x + 0.5 + 1e-7).floor() as i32
}

impl Whole {
    pub fn from_f64(x: f64) -> Whole {
        Whole(round_half_up(x, 1.0))
    }
}

impl Tenths {
    pub fn from_f64(x: f64) -> Tenths {
        Tenths(round_half_up(x, 10.0))
    }
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl Serialize for Whole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.0)
    }
}
impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Whole::from_f64)
    }
}
impl Serialize for Tenths {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}
impl<'de> Deserialize<'de> for Tenths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Tenths::from_f64)
    }
}

/// Which SpO2 scale scores the patient's oxygen saturation. Scale 2 is for
/// hypercapnic respiratory failure only, set by a doctor with a reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum Spo2Scale {
    #[default]
    #[serde(rename = "scale_1")]
    Scale1,
    #[serde(rename = "scale_2")]
    Scale2,
}

/// ACVPU: alert, new confusion, voice, pain, unresponsive. Chronic
/// confusion that is the patient's baseline is `alert`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Consciousness {
    Alert,
    NewConfusion,
    Voice,
    Pain,
    Unresponsive,
}

/// How oxygen is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OxygenDevice {
    NasalCannula,
    SimpleMask,
    Venturi,
    NonRebreather,
    Humidified,
    HighFlow,
    Cpap,
    Niv,
    Other,
}

/// Air, or oxygen with its device and either a flow or an FiO2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Breathing {
    Air,
    Oxygen {
        device: OxygenDevice,
        /// Litres per minute, to 0.1.
        #[serde(default)]
        #[ts(optional, type = "number | null")]
        flow_l_min: Option<Tenths>,
        /// Inspired oxygen, % (21-100).
        #[serde(default)]
        #[ts(optional, type = "number | null")]
        fio2_percent: Option<Whole>,
    },
}

/// One set of bedside observations as the nurse enters it. Any vital sign
/// may be left out (`null` or absent): the set is then stored and shown as
/// incomplete, with no total.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ObservationSet {
    /// Breaths per minute.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub respiration_rate: Option<Whole>,
    /// Oxygen saturation, %.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub spo2: Option<Whole>,
    #[serde(default)]
    #[ts(optional)]
    pub breathing: Option<Breathing>,
    /// mmHg.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub systolic: Option<Whole>,
    /// mmHg (recorded, not scored).
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub diastolic: Option<Whole>,
    /// Beats per minute.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub pulse: Option<Whole>,
    #[serde(default)]
    #[ts(optional)]
    pub consciousness: Option<Consciousness>,
    /// °C, to 0.1.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub temperature: Option<Tenths>,
    /// When the set was taken, by the device's clock, kept as given: it
    /// must lie within 24 h before and 2 min after the hub's clock.
    #[ts(type = "number")]
    pub taken_at: Millis,
}

/// The accepted range of a whole-number vital sign (inclusive): outside it
/// a value is implausible (a typing slip), inside it extreme but possible.
pub const RESPIRATION_RANGE: (i32, i32) = (0, 80);
pub const SPO2_RANGE: (i32, i32) = (40, 100);
pub const SYSTOLIC_RANGE: (i32, i32) = (30, 300);
pub const DIASTOLIC_RANGE: (i32, i32) = (10, 200);
pub const PULSE_RANGE: (i32, i32) = (15, 300);
pub const FIO2_RANGE: (i32, i32) = (21, 100);
/// Tenths of °C: 25.0 to 45.0.
pub const TEMPERATURE_RANGE: (i32, i32) = (250, 450);
/// Tenths of L/min: 0.1 to 70.
pub const FLOW_RANGE: (i32, i32) = (1, 700);

fn whole_in(
    field: &'static str,
    v: Option<Whole>,
    (lo, hi): (i32, i32),
    unit: &str,
) -> Result<(), FieldError> {
    match v {
        Some(Whole(x)) if x < lo || x > hi => Err(FieldError::new(
            field,
            format!("{x} is not a plausible value: the accepted range is {lo} to {hi} {unit}"),
        )),
        _ => Ok(()),
    }
}

fn tenths_in(
    field: &'static str,
    v: Option<Tenths>,
    (lo, hi): (i32, i32),
    unit: &str,
) -> Result<(), FieldError> {
    match v {
        Some(t) if t.0 < lo || t.0 > hi => Err(FieldError::new(
            field,
            format!(
                "{} is not a plausible value: the accepted range is {} to {} {unit}",
                t.as_f64(),
                Tenths(lo).as_f64(),
                Tenths(hi).as_f64()
            ),
        )),
        _ => Ok(()),
    }
}

impl ObservationSet {
    /// The protocol's range rules; `taken_at` is checked against the hub's
    /// clock by [`ObservationSet::validate_at`].
    pub fn validate(&self) -> Result<(), FieldError> {
        whole_in(
            "set.respiration_rate",
            self.respiration_rate,
            RESPIRATION_RANGE,
            "/min",
        )?;
        whole_in("set.spo2", self.spo2, SPO2_RANGE, "%")?;
        whole_in("set.systolic", self.systolic, SYSTOLIC_RANGE, "mmHg")?;
        whole_in("set.diastolic", self.diastolic, DIASTOLIC_RANGE, "mmHg")?;
        whole_in("set.pulse", self.pulse, PULSE_RANGE, "/min")?;
        tenths_in("set.temperature", self.temperature, TEMPERATURE_RANGE, "°C")?;
        if let (Some(s), Some(d)) = (self.systolic, self.diastolic) {
            if d.0 >= s.0 {
                return Err(FieldError::new(
                    "set.diastolic",
                    format!("{} must be below the systolic pressure ({})", d.0, s.0),
                ));
            }
        }
        if let Some(Breathing::Oxygen {
            flow_l_min,
            fio2_percent,
            ..
        }) = self.breathing
        {
            tenths_in("set.breathing.flow_l_min", flow_l_min, FLOW_RANGE, "L/min")?;
            whole_in("set.breathing.fio2_percent", fio2_percent, FIO2_RANGE, "%")?;
        }
        if self.is_empty() {
            return Err(FieldError::new("set", "must hold at least one vital sign"));
        }
        Ok(())
    }

    /// [`ObservationSet::validate`] and `taken_at` against the hub's clock.
    pub fn validate_at(&self, now: Millis) -> Result<(), FieldError> {
        self.validate()?;
        if self.taken_at > now.saturating_add(MAX_TAKEN_AHEAD_MS) {
            return Err(FieldError::new(
                "set.taken_at",
                "is in the future by the hub's clock (more than 2 minutes ahead): check the device's clock",
            ));
        }
        if self.taken_at < now.saturating_sub(MAX_TAKEN_AGO_MS) {
            return Err(FieldError::new(
                "set.taken_at",
                "is more than 24 hours ago: enter it in the paper record",
            ));
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.respiration_rate.is_none()
            && self.spo2.is_none()
            && self.breathing.is_none()
            && self.systolic.is_none()
            && self.diastolic.is_none()
            && self.pulse.is_none()
            && self.consciousness.is_none()
            && self.temperature.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantising_rounds_halves_up_despite_binary_fractions() {
        assert_eq!(Tenths::from_f64(35.05), Tenths(351));
        assert_eq!(Tenths::from_f64(38.05), Tenths(381));
        assert_eq!(Tenths::from_f64(35.04), Tenths(350));
        assert_eq!(Tenths::from_f64(36.0), Tenths(360));
        assert_eq!(Whole::from_f64(8.5), Whole(9));
        assert_eq!(Whole::from_f64(8.49), Whole(8));
        assert_eq!(Whole::from_f64(1e300), Whole(1_000_000));
    }

    #[test]
    fn implausible_values_name_the_field_and_the_range() {
        let set = ObservationSet {
            pulse: Some(Whole(400)),
            taken_at: 0,
            ..ObservationSet::default()
        };
        let e = set.validate().expect_err("refused");
        assert_eq!(e.field, "set.pulse");
        assert!(e.problem.contains("15 to 300"), "{}", e.problem);
        let empty = ObservationSet::default();
        assert_eq!(empty.validate().expect_err("refused").field, "set");
    }
}
