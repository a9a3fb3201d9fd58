//! The e-mails, in plain text and HTML. Everything that came from a user (names, addresses)
//! is escaped in the HTML body.

use errata_domain::Notice;
use errata_ports::Mail;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(unix_secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .map(|t| format!("{} {:02}, {}", t.month(), t.day(), t.year()))
        .unwrap_or_default()
}

pub fn invitation(notice: &Notice) -> Mail {
    let Notice::Invitation { to, org, org_name, invited_by, role, link, expires_at } = notice;
    let name = if org_name.is_empty() { org } else { org_name };
    let role = role.as_str();
    let expires = date(*expires_at);
    let subject = format!("{invited_by} invited you to {name} on Errata");
    let text = format!(
        "{invited_by} invited you to join the organization {name} on Errata as {role}.\n\n\
         Accept the invitation: {link}\n\n\
         The link works once and until {expires}. If you did not expect it, ignore this e-mail.\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>{} invited you to join the organization <strong>{}</strong> on Errata as {}.</p>\
         <p><a href=\"{}\">Accept the invitation</a></p>\
         <p style=\"color:#666\">The link works once and until {}. If you did not expect it, ignore this e-mail.</p>\
         </body></html>",
        escape(invited_by),
        escape(name),
        escape(role),
        escape(link),
        escape(&expires),
    );
    Mail { to: to.clone(), subject, text, html }
}
