//! Where stored objects live, and the check every reader makes before it reads one.
//!
//! References to stored objects (bucket keys) are made by the server alone. A reader never
//! trusts that a reference it finds in a stored document is one the server made for *this*
//! owner: it checks that the key lies in the owner's folder first, so a reference planted by a
//! client, or mixed up by a bug, cannot reach another tenant's object.

/// The folder of an event's attachments in the events bucket.
pub fn attachment_folder(project_id: u64, event_id: &str) -> String {
    format!("attachments/{project_id}/{event_id}/")
}

/// The key of an event's `index`-th attachment. The file name comes from a client: only
/// letters, digits, `.`, `-` and `_` of it are kept, so it can never change the key's structure.
pub fn attachment_key(project_id: u64, event_id: &str, index: usize, filename: &str) -> String {
    format!("{}{index}-{}", attachment_folder(project_id, event_id), safe_name(filename))
}

/// A client's file name reduced to characters that are safe in a key or a header.
pub fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect()
}

/// Whether `key` is an object in the event's own attachment folder: one level below it, with
/// no path tricks. Readers call this before every read of an attachment.
pub fn is_attachment_of(key: &str, project_id: u64, event_id: &str) -> bool {
    if event_id.is_empty() || !event_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    key.strip_prefix(&attachment_folder(project_id, event_id))
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && name != "." && name != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn keys_stay_in_their_folder_whatever_the_name() {
        let key = attachment_key(3, ID, 1, "../../7/x/../secret.txt");
        assert_eq!(key, format!("attachments/3/{ID}/1-.._.._7_x_.._secret.txt"));
        assert!(is_attachment_of(&key, 3, ID));
    }

    #[test]
    fn foreign_and_malformed_references_are_refused() {
        let other = "fedcba9876543210fedcba9876543210";
        assert!(!is_attachment_of(&format!("attachments/4/{ID}/0-a"), 3, ID), "another project");
        assert!(!is_attachment_of(&format!("attachments/3/{other}/0-a"), 3, ID), "another event");
        assert!(!is_attachment_of(&format!("attachments/3/{ID}/0-a/../../x"), 3, ID), "a deeper path");
        assert!(!is_attachment_of(&format!("attachments/3/{ID}/"), 3, ID), "the folder itself");
        assert!(!is_attachment_of(&format!("attachments/3/{ID}/.."), 3, ID));
        assert!(!is_attachment_of("bodies/2026-12-01/x.jsonl", 3, ID), "not an attachment");
        assert!(!is_attachment_of("attachments/3//0-a", 3, ""), "no event id");
        assert!(!is_attachment_of("attachments/3/*/0-a", 3, "*"), "not an event id");
        assert!(!is_attachment_of(&format!("attachments/31/{ID}/0-a"), 3, ID), "a project whose id starts alike");
    }
}
