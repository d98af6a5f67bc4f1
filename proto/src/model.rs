//! The hospital's vocabulary as it appears on the wire: roles, skills,
//! priorities, task and page views. Staff (`staff`), tasks (`task`) and
//! pages (`page`) each have a module; all are re-exported here.

use crate::ids::WardId;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod page;
mod staff;
mod task;

pub use page::*;
pub use staff::*;
pub use task::*;

/// A ward and its beds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WardView {
    pub id: WardId,
    pub name: String,
    pub beds: Vec<String>,
}
