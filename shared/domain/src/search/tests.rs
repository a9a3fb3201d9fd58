use super::*;
use crate::{Grouping, IssueId, StatusDetails};

fn issue() -> Issue {
    Issue {
        id: IssueId(7),
        project_id: 1,
        hash: "h".into(),
        title: "KeyError: 'user_id'".into(),
        culprit: "app.views in checkout".into(),
        level: "error".into(),
        ty: "error".into(),
        metadata: Default::default(),
        platform: "python".into(),
        status: IssueStatus::Unresolved,
        substatus: Substatus::Ongoing,
        status_details: StatusDetails::default(),
        first_release: Some("app@1.0".into()),
        last_release: Some("app@1.2".into()),
        users_seen: 3,
        first_seen: Timestamp::from_unix_millis(1_000_000_000_000).unwrap(),
        last_seen: Timestamp::from_unix_millis(1_000_000_000_000 + 3_600_000).unwrap(),
        times_seen: 12,
        grouping: Grouping::default(),
        environments: vec!["production".into()],
        assignee: None,
    }
}

fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_000_000_000_000 + 2 * 3_600_000).unwrap()
}

fn hits(q: &str) -> bool {
    Query::parse(q).unwrap().matches(&issue(), now())
}

#[test]
fn issue_terms() {
    assert!(hits("is:unresolved level:error"));
    assert!(!hits("is:resolved"));
    assert!(hits("!is:resolved level:[warning, error]"));
    assert!(hits("environment:production has:release has:user"));
    assert!(!hits("!environment:production"));
    assert!(hits("firstRelease:app@1.0 is:unassigned"));
    assert!(!hits("is:assigned"));
    assert!(hits("timesSeen:>10 userCount:<=3"));
    assert!(!hits("timesSeen:>12"));
    assert!(hits("age:-3h lastSeen:-2h"), "first seen 2 h ago, last seen 1 h ago");
    assert!(!hits("age:-1h"));
    assert!(hits("age:+1h"));
    assert!(hits(r#""user_id" checkout"#));
    assert!(hits("KEYERROR"));
    assert!(!hits(r#""no such text""#));
}

#[test]
fn event_terms_are_left_to_the_caller() {
    let q = Query::parse(r#"is:unresolved release:"app@1.2" !browser:Chrome url:https://x.test/a"#).unwrap();
    assert_eq!(q.terms.len(), 1);
    assert_eq!(
        q.event_terms,
        vec![
            EventTerm { negated: false, key: "release".into(), values: vec!["app@1.2".into()] },
            EventTerm { negated: true, key: "browser.name".into(), values: vec!["Chrome".into()] },
            EventTerm { negated: false, key: "url".into(), values: vec!["https://x.test/a".into()] },
        ]
    );
}

#[test]
fn statuses_to_read() {
    let s = |q: &str| Query::parse(q).unwrap().statuses();
    assert_eq!(s("is:unresolved"), vec![IssueStatus::Unresolved]);
    assert_eq!(s(""), vec![IssueStatus::Unresolved, IssueStatus::Resolved, IssueStatus::Ignored]);
    assert_eq!(s("!is:resolved"), vec![IssueStatus::Unresolved, IssueStatus::Ignored]);
    assert_eq!(s("is:regressed"), vec![IssueStatus::Unresolved]);
    assert_eq!(s("is:archived"), vec![IssueStatus::Ignored]);
    assert!(s("is:resolved is:ignored").is_empty());
}

#[test]
fn errors_say_what_is_wrong() {
    let e = |q: &str| Query::parse(q).unwrap_err().0;
    assert!(e("is:bogus").contains("is"));
    assert!(e("has:colour").contains("has:colour"));
    assert!(e("age:yesterday").contains("relative time"));
    assert!(e("timesSeen:many").contains("number"));
    assert!(e(r#""unclosed"#).contains("quote"));
    assert!(e("level:").contains("value"));
    assert!(e("bad key!:x").contains("Invalid search key") || e("bad!key:x").contains("Invalid search key"));
    assert!(e(&"a ".repeat(21)).contains("terms"));
}
