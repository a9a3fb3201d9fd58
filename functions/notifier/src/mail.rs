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

pub fn invitation(notice: &Notice) -> Option<Mail> {
    let Notice::Invitation { to, org, org_name, invited_by, role, link, expires_at } = notice else { return None };
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
    Some(Mail { to: to.clone(), subject, text, html })
}

/// The e-mail with a password-reset link.
pub fn password_reset(notice: &Notice) -> Option<Mail> {
    let Notice::PasswordReset { to, link, expires_at } = notice else { return None };
    let expires = date(*expires_at);
    let subject = "Reset your Errata password".to_owned();
    let text = format!(
        "Someone (we hope you) asked to reset the password of your Errata account {to}.\n\n\
         Set a new password: {link}\n\n\
         The link works once and until {expires}. Setting a new password signs you out everywhere.\n\
         If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>Someone (we hope you) asked to reset the password of your Errata account {}.</p>\
         <p><a href=\"{}\">Set a new password</a></p>\
         <p style=\"color:#666\">The link works once and until {}. Setting a new password signs you out everywhere. \
         If you did not ask for this, ignore this e-mail: your password stays as it is.</p>\
         </body></html>",
        escape(to),
        escape(link),
        escape(&expires),
    );
    Some(Mail { to: to.clone(), subject, text, html })
}

/// The e-mails of an alert, one per recipient.
pub fn alert(notice: &Notice, recipients: &[String]) -> Vec<Mail> {
    let Notice::Alert { rule_name, reason, issue: i, mute_link, .. } = notice else { return Vec::new() };
    let subject = format!("[{}] {}: {}", i.project, i.level.to_uppercase(), i.title);
    let mut facts = vec![
        ("Issue", i.short_id.clone()),
        ("Level", i.level.clone()),
        ("Events", i.count.to_string()),
        ("Users", i.users.to_string()),
        ("First seen", i.first_seen.clone()),
        ("Last seen", i.last_seen.clone()),
    ];
    if let Some(r) = &i.release {
        facts.push(("Release", r.clone()));
    }
    if let Some(e) = &i.environment {
        facts.push(("Environment", e.clone()));
    }
    let mut text = format!("{}\n{}\n\nAlert \"{rule_name}\": {reason}.\n\n", i.title, i.culprit);
    for (k, v) in &facts {
        text.push_str(&format!("{k}: {v}\n"));
    }
    if !i.frames.is_empty() {
        text.push_str("\nIn your code:\n");
        for f in &i.frames {
            text.push_str(&format!("  {f}\n"));
        }
    }
    text.push_str(&format!("\nSee the issue: {}\nMute this alert: {mute_link}\n", i.link));

    let rows: String = facts
        .iter()
        .map(|(k, v)| {
            format!("<tr><td style=\"color:#666;padding-right:12px\">{}</td><td>{}</td></tr>", escape(k), escape(v))
        })
        .collect();
    let frames: String = i.frames.iter().map(|f| format!("<li><code>{}</code></li>", escape(f))).collect();
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <h2 style=\"margin-bottom:4px\">{}</h2><div style=\"color:#666\">{}</div>\
         <p>Alert <strong>{}</strong>: {}.</p><table>{rows}</table>{}\
         <p><a href=\"{}\">See the issue</a> · <a href=\"{}\">Mute this alert</a></p></body></html>",
        escape(&i.title),
        escape(&i.culprit),
        escape(rule_name),
        escape(reason),
        if frames.is_empty() { String::new() } else { format!("<p>In your code:</p><ul>{frames}</ul>") },
        escape(&i.link),
        escape(mute_link),
    );
    recipients
        .iter()
        .map(|to| Mail { to: to.clone(), subject: subject.clone(), text: text.clone(), html: html.clone() })
        .collect()
}
