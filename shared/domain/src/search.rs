//! Sentry's issue search syntax: `is:unresolved level:error !environment:staging
//! release:"app@1.2" browser:Chrome has:user age:-24h "connection refused"`.
//!
//! A query parses into terms. Terms about the issue itself (status, level, environment,
//! assignee, age, counts, text) are decided here against the stored issue; terms about its
//! events (`release:` and tags) need the event store and are handed to the caller as
//! [`EventTerm`]s.

use crate::status::shown_substatus;
use crate::{Issue, IssueStatus, Substatus, Timestamp};

/// The longest query accepted, and the most terms in one.
pub const MAX_QUERY_LEN: usize = 1024;
pub const MAX_TERMS: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Terms decided on the issue, all of which must hold.
    pub terms: Vec<(bool, IssueTerm)>,
    /// Terms about the issue's events (release, tags): the issue must have (or, negated, not
    /// have) an event matching each.
    pub event_terms: Vec<EventTerm>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IssueTerm {
    Status(IssueStatus),
    Substatus(Substatus),
    Assigned,
    Level(Vec<String>),
    Environment(Vec<String>),
    FirstRelease(Vec<String>),
    AssignedTo(Vec<String>),
    /// `has:<field>`.
    Has(HasField),
    /// `age:-24h` (first seen within) or `age:+24h` (first seen before); milliseconds.
    Age(Compare, i64),
    /// `lastSeen:-1h`.
    LastSeen(Compare, i64),
    TimesSeen(Compare, u64),
    UsersSeen(Compare, u64),
    /// Free text over title, culprit and type, case-insensitive.
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasField {
    Release,
    Environment,
    User,
    Assignee,
}

/// `>` / `<` / `>=` / `<=` / `=` on a number; for relative times `-` means "within".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
}

impl Compare {
    fn holds<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            Compare::Gt => left > right,
            Compare::Ge => left >= right,
            Compare::Lt => left < right,
            Compare::Le => left <= right,
            Compare::Eq => left == right,
        }
    }
}

/// A condition on the issue's events: `release:1.2`, `browser:Chrome`, `!os.name:Linux`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTerm {
    pub negated: bool,
    /// `release`, or a tag key.
    pub key: String,
    /// Any of these values.
    pub values: Vec<String>,
}

/// A query that could not be understood, with a message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError(pub String);

impl Query {
    pub fn parse(query: &str) -> Result<Query, SearchError> {
        if query.len() > MAX_QUERY_LEN {
            return Err(SearchError(format!("The query is longer than {MAX_QUERY_LEN} characters.")));
        }
        let tokens = tokenize(query)?;
        if tokens.len() > MAX_TERMS {
            return Err(SearchError(format!("The query has more than {MAX_TERMS} terms.")));
        }
        let mut q = Query { terms: Vec::new(), event_terms: Vec::new() };
        for token in tokens {
            let (negated, token) = match token.strip_prefix('!') {
                Some(rest) => (true, rest.to_owned()),
                None => (false, token),
            };
            let Some((key, raw)) = split_key(&token) else {
                q.terms.push((negated, IssueTerm::Text(unquote(&token).to_lowercase())));
                continue;
            };
            let values = values(raw)?;
            let one = || -> Result<&str, SearchError> {
                match values.as_slice() {
                    [v] => Ok(v.as_str()),
                    _ => Err(SearchError(format!("{key}: takes one value"))),
                }
            };
            let term = match key {
                // `is:unassigned` is `!is:assigned`.
                "is" if one()? == "unassigned" => {
                    q.terms.push((!negated, IssueTerm::Assigned));
                    continue;
                }
                "is" => is_term(one()?)?,
                "level" => IssueTerm::Level(values.iter().map(|v| v.to_lowercase()).collect()),
                "environment" | "env" => IssueTerm::Environment(values),
                "firstRelease" | "first_release" | "first-release" => IssueTerm::FirstRelease(values),
                "assigned" | "assigned_or_suggested" => IssueTerm::AssignedTo(values),
                "has" => IssueTerm::Has(match one()? {
                    "release" => HasField::Release,
                    "environment" => HasField::Environment,
                    "user" => HasField::User,
                    "assignee" | "assigned" => HasField::Assignee,
                    other => {
                        return Err(SearchError(format!(
                            "has:{other} is not supported; use has:release, has:environment, has:user or has:assignee"
                        )))
                    }
                }),
                "age" | "firstSeen" => {
                    let (cmp, ms) = relative_time(key, one()?)?;
                    IssueTerm::Age(cmp, ms)
                }
                "lastSeen" => {
                    let (cmp, ms) = relative_time(key, one()?)?;
                    IssueTerm::LastSeen(cmp, ms)
                }
                "timesSeen" | "times_seen" => {
                    let (cmp, n) = number(key, one()?)?;
                    IssueTerm::TimesSeen(cmp, n)
                }
                "userCount" | "users_seen" => {
                    let (cmp, n) = number(key, one()?)?;
                    IssueTerm::UsersSeen(cmp, n)
                }
                _ => {
                    valid_tag_key(key)?;
                    q.event_terms.push(EventTerm { negated, key: canonical_tag(key).to_owned(), values });
                    continue;
                }
            };
            q.terms.push((negated, term));
        }
        Ok(q)
    }

    /// The statuses an issue matching this query can have, for the store to read only those.
    pub fn statuses(&self) -> Vec<IssueStatus> {
        let all = [IssueStatus::Unresolved, IssueStatus::Resolved, IssueStatus::Ignored];
        all.into_iter()
            .filter(|s| {
                self.terms.iter().all(|(neg, t)| match t {
                    IssueTerm::Status(want) => (s == want) != *neg,
                    // Substatuses other than resolved/archived ones belong to unresolved issues.
                    IssueTerm::Substatus(_) if !*neg => *s == IssueStatus::Unresolved,
                    _ => true,
                })
            })
            .collect()
    }

    /// The earliest last-seen time an issue matching this query can have (from `lastSeen:-X`),
    /// in Unix milliseconds; lets the store stop reading older issues.
    pub fn last_seen_after(&self, now: Timestamp) -> Option<i64> {
        self.terms
            .iter()
            .filter_map(|(neg, t)| match (neg, t) {
                (false, IssueTerm::LastSeen(Compare::Gt | Compare::Ge, ms)) => Some(now.unix_millis() - ms),
                _ => None,
            })
            .max()
    }

    /// Whether the issue satisfies every issue term (event terms are checked by the caller).
    pub fn matches(&self, issue: &Issue, now: Timestamp) -> bool {
        self.terms.iter().all(|(negated, term)| term_holds(term, issue, now) != *negated)
    }
}

fn term_holds(term: &IssueTerm, issue: &Issue, now: Timestamp) -> bool {
    let now_ms = now.unix_millis();
    match term {
        IssueTerm::Status(s) => issue.status == *s,
        IssueTerm::Substatus(s) => shown_substatus(issue, now) == *s,
        IssueTerm::Assigned => issue.assignee.is_some(),
        IssueTerm::Level(levels) => levels.contains(&issue.level),
        IssueTerm::Environment(envs) => envs.iter().any(|e| issue.environments.contains(e)),
        IssueTerm::FirstRelease(rels) => issue.first_release.as_ref().is_some_and(|r| rels.contains(r)),
        IssueTerm::AssignedTo(who) => {
            issue.assignee.as_ref().is_some_and(|a| who.iter().any(|w| w.eq_ignore_ascii_case(a)))
        }
        IssueTerm::Has(HasField::Release) => issue.first_release.is_some(),
        IssueTerm::Has(HasField::Environment) => !issue.environments.is_empty(),
        IssueTerm::Has(HasField::User) => issue.users_seen > 0,
        IssueTerm::Has(HasField::Assignee) => issue.assignee.is_some(),
        // `age:-24h`: first seen less than 24 h ago, i.e. first_seen > now - 24h.
        IssueTerm::Age(cmp, ms) => cmp.holds(issue.first_seen.unix_millis(), now_ms - ms),
        IssueTerm::LastSeen(cmp, ms) => cmp.holds(issue.last_seen.unix_millis(), now_ms - ms),
        IssueTerm::TimesSeen(cmp, n) => cmp.holds(issue.times_seen, *n),
        IssueTerm::UsersSeen(cmp, n) => cmp.holds(issue.users_seen, *n),
        IssueTerm::Text(text) => {
            let haystack = format!("{} {} {}", issue.title, issue.culprit, issue.ty).to_lowercase();
            haystack.contains(text.as_str())
        }
    }
}

fn is_term(value: &str) -> Result<IssueTerm, SearchError> {
    Ok(match value {
        "archived" => IssueTerm::Status(IssueStatus::Ignored),
        "assigned" => IssueTerm::Assigned,
        _ => IssueStatus::parse(value)
            .map(IssueTerm::Status)
            .or_else(|| Substatus::parse(value).map(IssueTerm::Substatus))
            .ok_or_else(|| {
                SearchError(format!(
                    "Invalid value for \"is\" search: {value:?}; use unresolved, resolved, ignored, archived, \
                     regressed, escalating, new, ongoing, assigned or unassigned"
                ))
            })?,
    })
}

/// Tag keys as Sentry's search and Errata's event rows name them.
fn canonical_tag(key: &str) -> &str {
    match key {
        "os" => "os.name",
        "browser" => "browser.name",
        _ => key,
    }
}

fn valid_tag_key(key: &str) -> Result<(), SearchError> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@'));
    if ok {
        Ok(())
    } else {
        Err(SearchError(format!("Invalid search key {key:?}")))
    }
}

/// `key:value` → (`key`, `value`), unless the colon is inside quotes or the token starts
/// with a quote (free text).
fn split_key(token: &str) -> Option<(&str, &str)> {
    if token.starts_with('"') {
        return None;
    }
    let (key, value) = token.split_once(':')?;
    (!key.is_empty() && !key.contains('"')).then_some((key, value))
}

fn unquote(s: &str) -> String {
    let s = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
    s.replace("\\\"", "\"")
}

/// One value, a quoted value, or a list `[a, "b c"]`.
fn values(raw: &str) -> Result<Vec<String>, SearchError> {
    let values: Vec<String> = match raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(list) => split_list(list).into_iter().map(|v| unquote(v.trim())).collect(),
        None => vec![unquote(raw)],
    };
    if values.iter().any(|v| v.is_empty()) {
        return Err(SearchError("A search term needs a value after the colon.".into()));
    }
    Ok(values)
}

fn split_list(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in list.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts
}

/// `-24h` (within the last 24 h: later than 24 h ago), `+7d` (earlier than 7 days ago).
fn relative_time(key: &str, value: &str) -> Result<(Compare, i64), SearchError> {
    let bad = || SearchError(format!("{key}: use a relative time like -24h, -7d or +30m"));
    let (cmp, rest) = match value.as_bytes().first() {
        Some(b'-') => (Compare::Gt, &value[1..]),
        Some(b'+') => (Compare::Lt, &value[1..]),
        _ => return Err(bad()),
    };
    let unit = match rest.chars().last().ok_or_else(bad)? {
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return Err(bad()),
    };
    let n: i64 = rest[..rest.len() - 1].parse().map_err(|_| bad())?;
    if !(0..=100_000).contains(&n) {
        return Err(bad());
    }
    Ok((cmp, n * unit))
}

fn number(key: &str, value: &str) -> Result<(Compare, u64), SearchError> {
    let (cmp, rest) = if let Some(r) = value.strip_prefix(">=") {
        (Compare::Ge, r)
    } else if let Some(r) = value.strip_prefix("<=") {
        (Compare::Le, r)
    } else if let Some(r) = value.strip_prefix('>') {
        (Compare::Gt, r)
    } else if let Some(r) = value.strip_prefix('<') {
        (Compare::Lt, r)
    } else {
        (Compare::Eq, value)
    };
    let n = rest.parse().map_err(|_| SearchError(format!("{key}: use a number like >10 or <=5")))?;
    Ok((cmp, n))
}

/// Splits on whitespace, keeping double-quoted parts (and escaped quotes) together.
fn tokenize(query: &str) -> Result<Vec<String>, SearchError> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped, mut bracket) = (false, false, false);
    for c in query.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '[' if !quoted => {
                bracket = true;
                current.push(c);
            }
            ']' if !quoted => {
                bracket = false;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted && !bracket => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(SearchError("The query has an unclosed quote.".into()));
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests;
