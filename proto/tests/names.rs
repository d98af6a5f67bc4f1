//! The `as_str` names of the state and priority enums are the names the
//! wire uses: the audit trail, the store's state columns and the hub's
//! messages spell states with them, so they must never drift from serde's.

use serde::Serialize;
use wardpage_proto::{PageState, Priority, TaskState};

fn wire_name(v: impl Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn as_str_is_the_wire_name_of_every_state_and_priority() {
    use PageState as P;
    use Priority as R;
    use TaskState as T;
    let tasks = [
        T::Offering,
        T::NoOneAccepted,
        T::Accepted,
        T::Started,
        T::Completed,
        T::Cancelled,
    ];
    for s in tasks {
        assert_eq!(s.as_str(), wire_name(s));
    }
    for s in [P::Open, P::Acknowledged, P::Undeliverable] {
        assert_eq!(s.as_str(), wire_name(s));
    }
    for p in [R::Routine, R::Soon, R::Urgent, R::Emergency] {
        assert_eq!(p.as_str(), wire_name(p));
    }
}
