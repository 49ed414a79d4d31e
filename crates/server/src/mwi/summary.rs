//! The `application/simple-message-summary` body (RFC 3842 §5.2).

use hotdesk_core::Mailbox;

/// Content-Type of message-summary bodies.
pub const CONTENT_TYPE: &str = "application/simple-message-summary";

/// The body for `mailbox`, naming `account` (a SIP URI) as Message-Account.
pub fn body(account: &str, mailbox: Mailbox) -> String {
    let waiting = if mailbox.new > 0 { "yes" } else { "no" };
    format!(
        "Messages-Waiting: {waiting}\r\nMessage-Account: {account}\r\nVoice-Message: {}/{} (0/0)\r\n",
        mailbox.new, mailbox.old
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3842_5_2_summary_lines() {
        let text = body("sip:94001@acme.test", Mailbox { new: 2, old: 5 });
        assert_eq!(
            text,
            "Messages-Waiting: yes\r\nMessage-Account: sip:94001@acme.test\r\nVoice-Message: 2/5 (0/0)\r\n"
        );
        assert!(body("sip:x@y", Mailbox::default()).starts_with("Messages-Waiting: no\r\n"));
    }
}
